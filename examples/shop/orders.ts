/** An order placed: record it, run the saga, and announce the outcome. */
import { db, on, send } from '@bac/sdk'
import { shop } from './events.ts'
import { OrderSaga } from './order-saga.ts'

on(
  shop.Order.placed,
  async function placeOrder(order) {
    await db.upsert('Order', { $id: order.id, ...order, status: 'placed' })
    try {
      const result = await OrderSaga.execute(order)
      const payment = result['charge-payment'] as { paymentId: string }
      await db.update('Order', order.id, { status: 'confirmed' })
      await send(shop.Order.confirmed, { orderId: order.id, paymentId: payment.paymentId })
    } catch (error) {
      await db.update('Order', order.id, { status: 'failed' })
      await send(shop.Order.failed, { orderId: order.id, reason: (error as Error).message })
    }
  },
  { idempotencyKey: (order) => order.id },
)
