/** Placing an order: reserve stock, then charge; if charging fails, the stock is released. */
import $, { send } from '@bac/sdk'
import type { Order } from './events.ts'

interface Reservation {
  reservationId: string
  items: Order['items']
}

interface Payment {
  paymentId: string
  amount: number
}

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
      compensation: (_order, payment: Payment) => send($.Payment.refund, payment),
    },
  ],
})
