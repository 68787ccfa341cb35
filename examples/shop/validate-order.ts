/**
 * The business rules an order must meet before anything is reserved or charged (its shape is
 * already checked by the `Order.created` schema): at least one item, and a total that is the
 * sum of price × quantity, to the cent.
 *
 * @example
 * validateOrder({ ...order, total: 79 })
 * // { valid: false, reason: 'total 79 does not match the items, which come to 80' }
 */
import type { Order } from './events.ts'

/** Valid, or not with the reason a customer can read. */
export type Validation = { readonly valid: true } | { readonly valid: false; readonly reason: string }

const cents = (amount: number) => Math.round(amount * 100)

export function validateOrder(order: Order): Validation {
  if (order.items.length === 0) return { valid: false, reason: 'an order needs at least one item' }
  const sum = order.items.reduce((total, item) => total + cents(item.price) * item.quantity, 0)
  if (sum !== cents(order.total)) {
    return { valid: false, reason: `total ${order.total} does not match the items, which come to ${sum / 100}` }
  }
  return { valid: true }
}
