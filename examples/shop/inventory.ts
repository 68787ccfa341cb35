/** Stock levels, owned by the inventory service: others reserve and release through it. */
import $ from '@bac/sdk'
import { z } from 'zod'
import { Item } from './events.ts'

export interface Stock {
  sku: string
  available: number
}

/** Not retried: waiting will not make stock appear. */
export class OutOfStock extends Error {
  constructor(readonly sku: string) {
    super(`out of stock: ${sku}`)
    this.name = 'OutOfStock'
  }
}

const stock = $.db.collection<Stock>('stock')
const Reservation = z.object({ reservationId: z.string(), items: z.array(Item) })

export const InventoryService = $.service({
  name: 'InventoryService',
  version: '1.0.0',
  data: { stock },
  operations: {
    reserve: {
      input: z.object({ orderId: z.string(), items: z.array(Item) }),
      output: Reservation,
      retry: { attempts: 3, nonRetryable: ['OutOfStock'] },
      handler: async ({ orderId, items }) => {
        for (const item of items) {
          const level = await stock.findOne({ sku: item.sku })
          if (!level || level.available < item.quantity) throw new OutOfStock(item.sku)
          await stock.update(level.$id, { available: level.available - item.quantity })
        }
        return { reservationId: `res-${orderId}`, items }
      },
    },
    release: {
      input: Reservation,
      handler: async ({ items }) => {
        for (const item of items) {
          const level = await stock.findOne({ sku: item.sku })
          if (level) await stock.update(level.$id, { available: level.available + item.quantity })
        }
      },
    },
    restock: {
      input: { sku: { type: 'string', required: true }, available: { type: 'integer', min: 0, required: true } },
      handler: (input: Stock) => stock.upsert(input, { on: ['sku'] }),
    },
  },
  endpoints: {
    'GET /stock/:sku': async (c) => c.json(await stock.findOne({ sku: c.req.param('sku') })),
  },
})
