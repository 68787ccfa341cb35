/**
 * An order created: check it, place it with the saga, and announce the outcome —
 * `Order.rejected` (it broke a rule; nothing was reserved or charged), `Order.confirmed`, or
 * `Order.failed` (a step failed and the saga undid the ones before it). Each order is handled
 * once, however often it is sent (`idempotencyKey`), and its progress is kept in `orders`.
 *
 * The documents live in `orders` rather than `Order`: a write to type `Order` publishes
 * `Order.created` itself, which would bring the order back to this handler.
 *
 * @example
 * await send($.Order.created, order) // then db.get('orders', order.id) → { ...order, status: 'confirmed', ... }
 */
import $, { db, isSagaCompensatedError, on, send } from '@bac/sdk'
import type { Order } from './events.ts'
import { OrderSaga } from './order-saga.ts'
import type { Charge } from './payments.ts'
import type { Booking } from './shipping.ts'
import { validateOrder } from './validate-order.ts'

/** Where an order is: received, then rejected, confirmed or failed. */
export type OrderStatus = 'received' | 'rejected' | 'confirmed' | 'failed'

/** How an order is kept in `orders`. */
export type OrderRecord = Order & { status: OrderStatus; reason?: string; paymentId?: string; shipmentId?: string }

on(
  $.Order.created,
  async function placeOrder(order) {
    const check = validateOrder(order)
    if (!check.valid) {
      await db.upsert('orders', { $id: order.id, ...order, status: 'rejected', reason: check.reason })
      await send($.Order.rejected, { order, reason: check.reason })
      return
    }
    await db.upsert('orders', { $id: order.id, ...order, status: 'received' })
    try {
      const result = await OrderSaga.execute(order)
      const { paymentId } = result['charge-payment'] as Charge
      const { shipmentId } = result['create-shipment'] as Booking
      await db.update<OrderRecord>('orders', order.id, { status: 'confirmed', paymentId, shipmentId })
      await send($.Order.confirmed, { order, paymentId, shipmentId })
    } catch (error) {
      // Undone by the saga: the order failed. Anything else is retried, or dead-lettered.
      if (!isSagaCompensatedError(error)) throw error
      const reason = (error as Error).message
      await db.update<OrderRecord>('orders', order.id, { status: 'failed', reason })
      await send($.Order.failed, { order, reason })
    }
  },
  { idempotencyKey: (order) => order.id },
)
