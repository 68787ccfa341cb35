/**
 * Stock levels, owned by the inventory service: others reserve, release and restock through its
 * operations, whose contracts are zod schemas (an input that does not fit is refused before the
 * handler runs). Reservations never oversell, however many orders race for the last units.
 *
 * @example
 * await send($.Inventory.restock, { sku: 'lamp', available: 10 })
 * const reservation = await send($.Inventory.reserve, { orderId: 'o1', items: [{ sku: 'lamp', quantity: 2, price: 40 }] })
 * await send($.Inventory.release, reservation)
 */
import $, { db, NonRetryableError } from '@bac/sdk'
import { z } from 'zod'
import { Item } from './events.ts'

/** A SKU's stock level. */
export interface Stock {
  sku: string
  available: number
}

/**
 * Not enough of a SKU to reserve. Not retried: waiting will not make stock appear.
 *
 * @example
 * throw new OutOfStock('lamp', 1, 3) // out of stock: lamp (1 available, 3 wanted)
 */
export class OutOfStock extends NonRetryableError {
  override readonly code = 'SHOP_OUT_OF_STOCK'

  constructor(sku: string, available: number, wanted: number) {
    super(`out of stock: ${sku} (${available} available, ${wanted} wanted)`)
  }
}

const stock = $.db.collection<Stock>('stock')

/** The quantity of each SKU in an order's lines (a SKU may be on several lines). */
function quantities(items: readonly { sku: string; quantity: number }[]): Map<string, number> {
  const wanted = new Map<string, number>()
  for (const { sku, quantity } of items) wanted.set(sku, (wanted.get(sku) ?? 0) + quantity)
  return wanted
}

/** What `reserve` returns and `release` takes back. */
export const Reservation = z.object({ reservationId: z.string(), items: z.array(Item) })
export type Reservation = z.infer<typeof Reservation>

/** Reserve, release and restock SKUs; `GET /stock/:sku` shows a level. */
export const InventoryService = $.service({
  name: 'InventoryService',
  version: '1.0.0',
  data: { stock },
  operations: {
    reserve: {
      input: z.object({ orderId: z.string(), items: z.array(Item) }),
      output: Reservation,
      retry: { attempts: 3 },
      // All lines or none, under any number of workers: each take is a conditional update —
      // applied only while the stock still covers it, checked under the document's lock — and
      // the transaction rolls back the takes before a line that is refused.
      handler: ({ orderId, items }) =>
        db.transaction(async () => {
          for (const [sku, quantity] of quantities(items)) {
            const level = await stock.findOne({ sku })
            const taken =
              level &&
              (await stock.update(
                level.$id,
                { $inc: { available: -quantity } },
                { where: { 'available:gte': quantity } },
              ))
            if (!taken) throw new OutOfStock(sku, (await stock.findOne({ sku }))?.available ?? 0, quantity)
          }
          return { reservationId: `res-${orderId}`, items }
        }),
    },
    release: {
      input: Reservation,
      handler: ({ items }) =>
        db.transaction(async () => {
          for (const [sku, quantity] of quantities(items)) {
            const level = await stock.findOne({ sku })
            if (level) await stock.update(level.$id, { $inc: { available: quantity } })
          }
        }),
    },
    restock: {
      input: { sku: { type: 'string', required: true }, available: { type: 'integer', min: 0, required: true } },
      handler: (input: Stock) => stock.upsert(input, { on: ['sku'] }),
    },
  },
  endpoints: {
    'GET /stock/:sku': async (c) => {
      const level = await stock.findOne({ sku: c.req.param('sku') })
      return level ? c.json(level) : c.json({ error: `no stock kept for ${c.req.param('sku')}` }, 404)
    },
  },
})
