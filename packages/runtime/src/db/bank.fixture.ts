/**
 * Money moving between accounts as a business should move it, for the concurrency tests: both
 * accounts locked up front in one order (by id), so transfers never deadlock, and the balance
 * checked under the lock; `fail` throws after the writes, to show they roll back.
 */
import { db, NonRetryableError } from '@bac/sdk'

export interface Transfer {
  readonly from: string
  readonly to: string
  readonly amount: number
  readonly fail?: boolean
}

export const moveMoney = ({ from, to, amount, fail = false }: Transfer): Promise<void> =>
  db.transaction(async (tx) => {
    const locked = await tx.find<{ balance: number }>(
      'Account',
      { $id: { $in: [from, to] } },
      { forUpdate: true, sort: { $id: 1 } },
    )
    const source = locked.find((account) => account.$id === from)
    if (!source || source.balance < amount) throw new NonRetryableError('insufficient funds')
    await tx.update('Account', from, { $inc: { balance: -amount } })
    await tx.update('Account', to, { $inc: { balance: amount } })
    await tx.create('Transfer', { from, to, amount })
    if (fail) throw new NonRetryableError('changed its mind')
  })

/** A transfer, or a `Declined` document saying why not. */
export async function transferOrDecline(transfer: Transfer): Promise<void> {
  try {
    await moveMoney(transfer)
  } catch (error) {
    await db.create('Declined', { reason: (error as Error).message })
  }
}
