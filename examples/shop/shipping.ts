/**
 * A stand-in carrier: books and cancels shipments, as the verbs of the seeds
 * (`$.Shipment.create`, `$.Shipment.cancel`). It does not ship to country `XX`, so an order
 * that fails after payment, with its undo, can be seen.
 *
 * @example
 * const shipment = await send($.Shipment.create, { orderId: 'o1', items, address: order.shippingAddress })
 * await send($.Shipment.cancel, shipment)
 */
import $, { NonRetryableError } from '@bac/sdk'
import { z } from 'zod'
import { Address, Item } from './events.ts'

/** Countries the carrier does not deliver to. */
const UNSERVED = new Set(['XX'])

/**
 * The carrier does not deliver there. Not retried: it will not start to by trying again.
 *
 * @example
 * throw new Unshippable('XX') // cannot ship to country XX
 */
export class Unshippable extends NonRetryableError {
  override readonly code = 'SHOP_UNSHIPPABLE'

  constructor(country: string) {
    super(`cannot ship to country ${country}`)
  }
}

/** A shipment as the carrier keeps it. */
export interface Shipment {
  orderId: string
  address: Address
  items: Item[]
  status: 'booked' | 'cancelled'
}

const shipments = $.db.collection<Shipment>('shipments')

/** What `create` returns and `cancel` takes. */
export const Booking = z.object({ shipmentId: z.string() })
export type Booking = z.infer<typeof Booking>

/** Book a shipment (`Shipment.create`) and cancel it (`Shipment.cancel`). */
export const ShippingService = $.service({
  name: 'ShippingService',
  subject: 'Shipment',
  version: '1.0.0',
  data: { shipments },
  operations: {
    create: {
      input: z.object({ orderId: z.string(), items: z.array(Item), address: Address }),
      output: Booking,
      retry: { attempts: 3 },
      handler: async ({ orderId, items, address }) => {
        if (UNSERVED.has(address.country)) throw new Unshippable(address.country)
        const shipment = await shipments.upsert({ $id: `ship-${orderId}`, orderId, address, items, status: 'booked' })
        return { shipmentId: shipment.$id }
      },
    },
    cancel: {
      input: Booking,
      handler: async ({ shipmentId }) => {
        await shipments.update(shipmentId, { status: 'cancelled' })
      },
    },
  },
})
