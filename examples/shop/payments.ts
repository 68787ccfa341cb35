/** A stand-in payment provider: declines large amounts, so the saga's undo path can be seen. */
import $ from '@bac/sdk'
import { z } from 'zod'

export class CardDeclined extends Error {
  constructor(amount: number) {
    super(`card declined for ${amount}`)
    this.name = 'CardDeclined'
  }
}

export const PaymentService = $.service({
  name: 'PaymentService',
  version: '1.0.0',
  operations: {
    process: {
      input: z.object({ orderId: z.string(), amount: z.number().positive() }),
      output: z.object({ paymentId: z.string(), amount: z.number() }),
      retry: { attempts: 2, nonRetryable: ['CardDeclined'] },
      handler: async ({ orderId, amount }) => {
        if (amount > 5000) throw new CardDeclined(amount)
        return { paymentId: `pay-${orderId}`, amount }
      },
    },
    refund: {
      input: z.object({ paymentId: z.string(), amount: z.number() }),
      handler: async ({ paymentId }) => ({ refunded: paymentId }),
    },
  },
})
