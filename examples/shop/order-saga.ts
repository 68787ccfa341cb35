/**
 * Placing an order, as the seeds' saga: reserve stock, charge, book a shipment, confirm by
 * email. When a step fails, the steps before it are undone in reverse order — the shipment
 * cancelled, the payment refunded, the stock released — and `execute` rejects.
 *
 * A confirmation that bounces undoes the whole order: the email address is the only way the
 * shop has to reach the customer, so it neither ships to nor keeps money from one it cannot
 * reach.
 *
 * @example
 * const { 'charge-payment': payment, 'create-shipment': shipment } = await OrderSaga.execute(order)
 */
import $, { send } from '@bac/sdk'
import type { Order } from './events.ts'
import type { Reservation } from './inventory.ts'
import type { Charge } from './payments.ts'
import type { Booking } from './shipping.ts'

/** The `place-order` saga; its input is the order, its result each step's by name. */
export const OrderSaga = $.saga<Order>({
  name: 'place-order',
  steps: [
    {
      name: 'reserve-inventory',
      action: (order) => send($.Inventory.reserve, { orderId: order.id, items: order.items }),
      compensation: (_order, reservation: Reservation) => send($.Inventory.release, reservation),
    },
    {
      name: 'charge-payment',
      action: (order) => send($.Payment.process, { orderId: order.id, amount: order.total }),
      compensation: (_order, payment: Charge) => send($.Payment.refund, payment),
    },
    {
      name: 'create-shipment',
      action: (order) =>
        send($.Shipment.create, { orderId: order.id, items: order.items, address: order.shippingAddress }),
      compensation: (_order, shipment: Booking) => send($.Shipment.cancel, shipment),
    },
    {
      name: 'send-confirmation',
      action: (order) =>
        send($.Email.send, {
          to: order.email,
          subject: 'Order confirmed',
          body: `Thank you! Order ${order.id} (${order.total}) is paid and on its way to ${order.shippingAddress.city}.`,
        }),
    },
  ],
})
