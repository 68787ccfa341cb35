/**
 * Order analytics: every outcome is counted, and confirmed orders add their total to the
 * revenue, in one running-totals document (`analytics/orders`). `$inc` adds inside the write's
 * transaction, so outcomes counted at the same time never lose a count.
 *
 * @example
 * await db.get<OrderCounts>('analytics', 'orders') // { confirmed: 3, failed: 1, rejected: 0, revenue: 240 }
 */
import $, { db, on } from '@bac/sdk'

/** The running totals of order outcomes. */
export interface OrderCounts {
  confirmed: number
  failed: number
  rejected: number
  revenue: number
}

const ZERO: OrderCounts = { confirmed: 0, failed: 0, rejected: 0, revenue: 0 }

/** Add one to an outcome's count (and `revenue` to the revenue); every count exists from the first. */
async function count(outcome: 'confirmed' | 'failed' | 'rejected', revenue = 0): Promise<void> {
  await db.upsert('analytics', { $id: 'orders' })
  await db.update('analytics', 'orders', { $inc: { ...ZERO, [outcome]: 1, revenue } })
}

on($.Order.confirmed, async function countConfirmed({ order }) {
  await count('confirmed', order.total)
})

on($.Order.failed, async function countFailed() {
  await count('failed')
})

on($.Order.rejected, async function countRejected() {
  await count('rejected')
})
