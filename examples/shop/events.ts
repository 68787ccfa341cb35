/**
 * The shop's events, as zod schemas: payloads are typed by them and checked when sent, so a
 * payload of the wrong shape never becomes an event. Business rules (a total that matches the
 * items) are checked by the handler, which answers `Order.rejected`.
 *
 * @example
 * await send(shop.Order.created, {
 *   id: 'o1',
 *   email: 'ann@example.com',
 *   items: [{ sku: 'lamp', quantity: 2, price: 40 }],
 *   total: 80,
 *   shippingAddress: { street: '1 Main St', city: 'Springfield', country: 'US' },
 * })
 */
import { type EventsOf, events } from '@bac/sdk'
import { z } from 'zod'

/** One line of an order: so many of a SKU at a unit price. */
export const Item = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  price: z.number().nonnegative(),
})
export type Item = z.infer<typeof Item>

/** Where an order goes; `country` is an ISO 3166 code such as `US`. */
export const Address = z.object({
  street: z.string().min(1),
  city: z.string().min(1),
  country: z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code such as "US"'),
})
export type Address = z.infer<typeof Address>

/** An order as the shop receives it. */
export const Order = z.object({
  id: z.string().min(1),
  email: z.email(),
  items: z.array(Item),
  total: z.number().nonnegative(),
  shippingAddress: Address,
})
export type Order = z.infer<typeof Order>

/** The totals the daily job reports. */
export const DailyReport = z.object({
  date: z.iso.date(),
  confirmed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  revenue: z.number().nonnegative(),
})
export type DailyReport = z.infer<typeof DailyReport>

/** Every event of the shop with its schema, by noun and verb (`Order.created`). */
export const schemas = {
  Order: {
    created: Order,
    rejected: z.object({ order: Order, reason: z.string() }),
    confirmed: z.object({ order: Order, paymentId: z.string(), shipmentId: z.string() }),
    failed: z.object({ order: Order, reason: z.string() }),
  },
  Report: {
    daily: DailyReport,
  },
}

/** The shop's typed vocabulary: `shop.Order.created` is `$.Order.created` with its payload type. */
export const shop = events(schemas)

declare module '@bac/sdk' {
  interface Events extends EventsOf<typeof schemas> {}
}
