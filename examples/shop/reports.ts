/** A daily summary of the day's orders. */
import $, { db, every, send } from '@bac/sdk'

every('day at 6pm', async function dailyReport() {
  const [placed, confirmed, failed] = await Promise.all(
    ['placed', 'confirmed', 'failed'].map((status) => db.count('Order', { status })),
  )
  await send($.Report.daily, { placed, confirmed, failed })
})
