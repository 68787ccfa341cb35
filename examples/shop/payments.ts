/**
 * A stand-in payment provider that keeps what it charged and refunded. It declines amounts over
 * 5000, so the saga's undo path can be seen.
 *
 * @example
 * const payment = await send($.Payment.process, { orderId: 'o1', amount: 80 }) // { paymentId: 'pay-o1', amount: 80 }
 * await send($.Payment.refund, payment)
 */
import $, { NonRetryableError } from '@bac/sdk'
import { z } from 'zod'

/** The most a card is charged at once; more is declined. */
const LIMIT = 5000

/**
 * The card was declined. Not retried: the same card declines the same amount again.
 *
 * @example
 * throw new CardDeclined(6000) // card declined for 6000 (the limit is 5000)
 */
export class CardDeclined extends NonRetryableError {
  override readonly code = 'SHOP_CARD_DECLINED'

  constructor(amount: number) {
    super(`card declined for ${amount} (the limit is ${LIMIT})`)
  }
}

/** A charge as the provider keeps it. */
export interface Payment {
  orderId: string
  amount: number
  status: 'captured' | 'refunded'
}

const payments = $.db.collection<Payment>('payments')

/** What `process` returns and `refund` takes. */
export const Charge = z.object({ paymentId: z.string(), amount: z.number() })
export type Charge = z.infer<typeof Charge>

/** Charge an order (`Payment.process`) and refund it (`Payment.refund`). */
export const PaymentService = $.service({
  name: 'PaymentService',
  version: '1.0.0',
  data: { payments },
  operations: {
    process: {
      input: z.object({ orderId: z.string(), amount: z.number().positive() }),
      output: Charge,
      retry: { attempts: 2 },
      handler: async ({ orderId, amount }) => {
        if (amount > LIMIT) throw new CardDeclined(amount)
        const payment = await payments.upsert({ $id: `pay-${orderId}`, orderId, amount, status: 'captured' })
        return { paymentId: payment.$id, amount }
      },
    },
    refund: {
      input: Charge,
      output: Charge,
      handler: async ({ paymentId, amount }) => {
        await payments.update(paymentId, { status: 'refunded' })
        return { paymentId, amount }
      },
    },
  },
})
