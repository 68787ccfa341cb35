/**
 * Email, kept in an outbox collection (a real sender would be called from the operation), and
 * the notice a customer gets when an order is rejected or fails.
 *
 * Addresses at `bounce.test` stand for mailboxes that do not exist: sending to one fails at
 * once, without retries (`MailboxNotFound`). That is the shop's path to the dead-letter queue:
 * an order from such an address cannot be confirmed, so the saga undoes it (stock released,
 * payment refunded, shipment cancelled) and the order fails; the notice about that bounces
 * too, and `failureEmail`, which nothing else handles, is filed as a dead letter. A person sees
 * it with `bac dlq ls` (its error names the address), reaches the customer another way, and
 * replays it (`bac dlq replay ID`) or discards it.
 *
 * @example
 * const { messageId } = await send($.Email.send, { to: 'ann@example.com', subject: 'Hi', body: 'Hello' })
 */
import $, { NonRetryableError, on, send } from '@bac/sdk'

/**
 * The receiving server says the mailbox does not exist. Not retried: it will not appear.
 *
 * @example
 * throw new MailboxNotFound('eve@bounce.test') // mailbox does not exist: eve@bounce.test
 */
export class MailboxNotFound extends NonRetryableError {
  override readonly code = 'SHOP_MAILBOX_NOT_FOUND'

  constructor(address: string) {
    super(`mailbox does not exist: ${address}`)
  }
}

/** An email as the outbox keeps it. */
export interface Message {
  to: string
  subject: string
  body: string
  status: 'sent'
}

const outbox = $.db.collection<Message>('outbox')

/** Send an email (`Email.send`); a mailbox that does not exist fails it with `MailboxNotFound`. */
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
        if (email.to.endsWith('@bounce.test')) throw new MailboxNotFound(email.to)
        const message = await outbox.create({ ...email, status: 'sent' })
        return { messageId: message.$id }
      },
    },
  },
})

on([$.Order.rejected, $.Order.failed], async function failureEmail({ order, reason }) {
  await send($.Email.send, {
    to: order.email,
    subject: 'Order not placed',
    body: `We could not place order ${order.id}: ${reason}. Any payment has been refunded.`,
  })
})
