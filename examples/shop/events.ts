/** The shop's events, as zod schemas: payloads are typed by them and checked at run time. */
import { type EventsOf, events } from '@bac/sdk'
import { z } from 'zod'

export const Item = z.object({
  sku: z.string(),
  quantity: z.number().int().positive(),
  price: z.number().nonnegative(),
})

export const Order = z.object({
  id: z.string(),
  email: z.email(),
  items: z.array(Item).min(1),
  total: z.number().nonnegative(),
})
export type Order = z.infer<typeof Order>

export const schemas = {
  Order: {
    placed: Order,
    confirmed: z.object({ orderId: z.string(), paymentId: z.string() }),
    failed: z.object({ orderId: z.string(), reason: z.string() }),
  },
}

export const shop = events(schemas)

declare module '@bac/sdk' {
  interface Events extends EventsOf<typeof schemas> {}
}
