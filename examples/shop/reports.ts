/**
 * A daily report at 6pm: the order totals so far, sent as `Report.daily` and kept in `reports`,
 * one document per day.
 *
 * @example
 * await db.get<DailyReport>('reports', '2026-06-01') // { date: '2026-06-01', confirmed: 3, failed: 1, rejected: 0, revenue: 240 }
 */
import $, { db, every, on, send } from '@bac/sdk'
import type { OrderCounts } from './analytics.ts'

every('day at 6pm', async function dailyReport({ scheduledAt }) {
  const counts = await db.get<OrderCounts>('analytics', 'orders')
  await send($.Report.daily, {
    date: scheduledAt.toISOString().slice(0, 10),
    confirmed: counts?.confirmed ?? 0,
    failed: counts?.failed ?? 0,
    rejected: counts?.rejected ?? 0,
    revenue: counts?.revenue ?? 0,
  })
})

on($.Report.daily, async function keepReport(report) {
  await db.upsert('reports', { $id: report.date, ...report })
})
