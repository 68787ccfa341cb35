import { describe, expect, it } from 'vitest'
import { business } from './collector.ts'
import { $, every, send } from './index.ts'

const job = () => {}

describe('every', () => {
  it('declares schedules from cron, natural forms and builders', () => {
    const definition = business('jobs', () => {
      every('0 9 * * 1', job)
      every('Monday at 9am', job, { name: 'weekly-report', timezone: 'Europe/Berlin', retry: 2 })
      every.hour(job)
      every.day.at('9am', job)
      every.minutes(15, job)
      every.monday.at('8:30am', job)
      every.hour.at(15, job)
      every.weekday(job)
    })
    expect(definition.schedules.map((s) => [s.name, s.cron, s.description])).toEqual([
      ['job', '0 9 * * 1', '0 9 * * 1'],
      ['weekly-report', '0 9 * * 1', 'Monday at 9am'],
      ['job#2', '0 * * * *', 'hour'],
      ['job#3', '0 9 * * *', 'day at 9am'],
      ['job#4', '*/15 * * * *', '15 minutes'],
      ['job#5', '30 8 * * 1', 'monday at 8:30am'],
      ['job#6', '15 * * * *', 'hour at :15'],
      ['job#7', '0 0 * * 1-5', 'weekday'],
    ])
    expect(definition.schedules[1]?.timezone).toBe('Europe/Berlin')
    expect(definition.schedules[1]?.options).toEqual({ retry: { attempts: 2 } })
  })

  it('names anonymous jobs after their schedule and finds what they send', () => {
    const definition = business('anon', () => {
      every('day at 6am', async () => {
        await send($.Report.generated, { type: 'daily' })
      })
    })
    expect(definition.schedules[0]?.name).toBe('every day at 6am')
    expect(definition.schedules[0]?.sends).toEqual(['Report.generated'])
  })

  it('returns a schedule value without a handler, for service jobs', () => {
    expect(every.day.at('9am')).toEqual({ cron: '0 9 * * *', description: 'day at 9am' })
    expect(every.minutes(15)).toEqual({ cron: '*/15 * * * *', description: '15 minutes' })
    expect(every.hour.cron).toBe('0 * * * *')
  })

  it('rejects a bad schedule, timezone or handler at declaration time', () => {
    expect(() => business('x', () => every('whenever', job))).toThrow(/every\("whenever"\): not a schedule/)
    expect(() => business('x', () => every('day', job, { timezone: 'Mars/Olympus' }))).toThrow(
      /timezone must be an IANA name such as 'Europe\/Berlin', got "Mars\/Olympus"/,
    )
    expect(() => business('x', () => every('day', 'job' as never))).toThrow(/the handler must be a function/)
    expect(() => business('x', () => every('day', job, { timezon: 'UTC' } as never))).toThrow(
      /unknown option "timezon" \(did you mean "timezone"\?\)/,
    )
    expect(() => business('x', () => every.minutes(7, job))).toThrow(/every\.minutes\(7\): 7 does not divide an hour/)
    expect(() => business('x', () => every.day.at('25pm', job))).toThrow(
      /every\.day\.at\("25pm"\): "25pm" is not a time/,
    )
    expect(() => business('x', () => every('day', job, { retry: 'often' } as never))).toThrow(/every\("day"\): retry/)
  })
})
