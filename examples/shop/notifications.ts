/** Email, kept in an outbox collection (a real sender would be called from the operation). */
import $, { on, send } from '@bac/sdk'
import { shop } from './events.ts'

const outbox = $.db.collection('outbox')

export const EmailService = $.service({
  name: 'EmailService',
  data: { outbox },
  operations: {
    send: {
      input: {
        to: { type: 'string', format: 'email', required: true },
        subject: { type: 'string', required: true },
        body: { type: 'string', required: true },
      },
      output: { messageId: { type: 'string', required: true } },
      handler: async (email: { to: string; subject: string; body: string }) => {
        const message = await outbox.create({ ...email, status: 'queued' })
        return { messageId: message.$id }
      },
    },
  },
})

on(shop.Order.confirmed, async function confirmationEmail({ orderId }, ctx) {
  const order = await ctx.db.get<{ email: string }>('Order', orderId)
  if (order)
    await send($.Email.send, { to: order.email, subject: 'Order confirmed', body: `Order ${orderId} is on its way.` })
})

on(shop.Order.failed, async function failureEmail({ orderId, reason }, ctx) {
  const order = await ctx.db.get<{ email: string }>('Order', orderId)
  if (order)
    await send($.Email.send, {
      to: order.email,
      subject: 'Order not placed',
      body: `We could not place ${orderId}: ${reason}`,
    })
})
