import { describe, expect, it } from 'vitest'
import { isDeclarationError } from './errors.ts'
import { parseSchedule } from './schedule.ts'

describe('parseSchedule', () => {
  it.each([
    ['0 9 * * 1', '0 9 * * 1'],
    ['*/5 * * * * *', '*/5 * * * * *'],
    ['0 0 1 JAN *', '0 0 1 JAN *'],
    ['@daily', '0 0 * * *'],
    ['@hourly', '0 * * * *'],
    ['hour', '0 * * * *'],
    ['every hour', '0 * * * *'],
    ['minute', '* * * * *'],
    ['second', '* * * * * *'],
    ['day', '0 0 * * *'],
    ['week', '0 0 * * 1'],
    ['month', '0 0 1 * *'],
    ['15 minutes', '*/15 * * * *'],
    ['every 30 seconds', '*/30 * * * * *'],
    ['2 hours', '0 */2 * * *'],
    ['1 minute', '* * * * *'],
    ['day at 9am', '0 9 * * *'],
    ['at 17:30', '30 17 * * *'],
    ['Monday at 9am', '0 9 * * 1'],
    ['every Monday at 9:30 pm', '30 21 * * 1'],
    ['mondays', '0 0 * * 1'],
    ['weekday at 5pm', '0 17 * * 1-5'],
    ['weekends at noon', '0 12 * * 0,6'],
    ['Mon, Wed and Fri at 8am', '0 8 * * 1,3,5'],
    ['day at 9am and 5pm', '0 9,17 * * *'],
    ['day at midnight', '0 0 * * *'],
    ['day at 12am', '0 0 * * *'],
    ['day at 12pm', '0 12 * * *'],
    ['hour at :15', '15 * * * *'],
    ['1st of the month at 9am', '0 9 1 * *'],
    ['month on the 15th', '0 0 15 * *'],
    ['month at 9am', '0 9 1 * *'],
    ['week at 9am', '0 9 * * 1'],
  ])('%s → %s', (input, cron) => {
    expect(parseSchedule(input)).toEqual({ cron, description: input })
  })

  it.each([
    ['every blue moon', /not a schedule\. Use cron/],
    ['', /expected a schedule/],
    ['61 * * * *', /"61 \* \* \* \*" is not a valid cron expression/],
    ['7 minutes', /7 does not divide an hour evenly.*use one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30/],
    ['5 hours', /5 does not divide a day evenly/],
    ['3 days', /cannot run every 3 days evenly/],
    ['day at 25:00', /"25:00" is not a time/],
    ['day at 13pm', /"13pm" is not a time/],
    ['day at 9am and 5:30pm', /must share their minute/],
    ['hour at :75', /minute 75 of the hour does not exist/],
    ['32nd of the month', /day 32 of the month does not exist/],
    ['Funday at 9am', /not a schedule/],
  ])('rejects %j', (input, message) => {
    let error: unknown
    try {
      parseSchedule(input)
    } catch (e) {
      error = e
    }
    expect(isDeclarationError(error)).toBe(true)
    expect((error as Error).message).toMatch(message)
  })
})
