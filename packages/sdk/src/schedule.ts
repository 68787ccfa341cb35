/**
 * Schedules as people write them, turned into cron: standard 5-field (minute) and 6-field
 * (second) cron, `@daily`-style macros, and natural forms — `'hour'`, `'15 minutes'`,
 * `'day at 9am'`, `'Monday at 9am'`, `'weekday at 17:30'`, `'Mon, Wed and Fri at noon'`,
 * `'hour at :15'`, `'1st of the month at 9am'`. Anything else is a `DeclarationError`, never a
 * silent default.
 *
 * @example
 * parseSchedule('Monday at 9am').cron // '0 9 * * 1'
 */
import { Cron } from 'croner'
import { DeclarationError } from './errors.ts'

/** A parsed schedule: the cron expression it runs on and what was written. */
export interface Schedule {
  readonly cron: string
  readonly description: string
}

const DAYS: Readonly<Record<string, number>> = {
  sunday: 0,
  sun: 0,
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thu: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

/** Units on their own, at the start of the unit ("week" starts Monday 00:00, as ISO weeks do). */
const UNITS: Readonly<Record<string, string>> = {
  second: '* * * * * *',
  minute: '* * * * *',
  hour: '0 * * * *',
  hourly: '0 * * * *',
  day: '0 0 * * *',
  daily: '0 0 * * *',
  week: '0 0 * * 1',
  weekly: '0 0 * * 1',
  month: '0 0 1 * *',
  monthly: '0 0 1 * *',
  year: '0 0 1 1 *',
  yearly: '0 0 1 1 *',
}

/** For `N units`: the cron field template and the period N must divide evenly. */
const STEPS: Readonly<Record<string, { readonly period: number; readonly cron: (n: number) => string }>> = {
  second: { period: 60, cron: (n) => `*/${n} * * * * *` },
  minute: { period: 60, cron: (n) => `*/${n} * * * *` },
  hour: { period: 24, cron: (n) => `0 */${n} * * *` },
}

const EXAMPLES = "cron ('0 9 * * 1') or a form like 'Monday at 9am', 'day at 17:30', '15 minutes', 'hour'"

/** Parse a schedule; `place` names the declaration in errors. */
export function parseSchedule(input: string, place = `every('${input}')`): Schedule {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new DeclarationError(`${place}: expected a schedule such as ${EXAMPLES}, got ${JSON.stringify(input)}`)
  }
  const text = input.trim()
  const cron = MACROS[text.toLowerCase()] ?? (looksLikeCron(text) ? text : natural(text, place))
  checkCron(cron, place)
  return Object.freeze({ cron, description: text })
}

/** Throws when croner rejects `cron`, or `timezone` is not an IANA zone. */
export function checkCron(cron: string, place: string, timezone?: string): void {
  try {
    new Cron(cron, { paused: true, ...(timezone ? { timezone } : {}) }).stop()
  } catch (error) {
    throw new DeclarationError(`${place}: "${cron}" is not a valid cron expression (${(error as Error).message})`)
  }
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone })
    } catch {
      throw new DeclarationError(`${place}: timezone must be an IANA name such as 'Europe/Berlin', got "${timezone}"`)
    }
  }
}

function looksLikeCron(text: string): boolean {
  const fields = text.split(/\s+/)
  // Letters only as three-letter month or day names (JAN, MON-FRI), so "1st of the month..." is not cron.
  const field = /^(?:[\d*?/,\-LW#]|[A-Za-z]{3}(?![A-Za-z]))+$/
  return (
    (fields.length === 5 || fields.length === 6) &&
    fields.every((f) => field.test(f)) &&
    /^[\d*?]/.test(fields[0] ?? '')
  )
}

function natural(input: string, place: string): string {
  const text = input
    .toLowerCase()
    .replace(/^every\s+/, '')
    .replace(/\s+/g, ' ')
    .trim()
    // 'month at 9am' is the 1st at 9am, 'week at 9am' is Monday at 9am, as the bare units are.
    .replace(/^month at /, '1st of the month at ')
    .replace(/^week at /, 'monday at ')
  const fail = (why = ''): never => {
    throw new DeclarationError(`${place}: not a schedule${why}. Use ${EXAMPLES}`)
  }

  const unit = UNITS[text]
  if (unit) return unit

  const step = /^(\d+) (second|minute|hour|day)s?$/.exec(text)
  if (step?.[1] && step[2]) return stepCron(Number(step[1]), step[2], place)

  const hourAt = /^hour at :?(\d{1,2})$/.exec(text)
  if (hourAt?.[1]) return `${minuteOf(hourAt[1], place)} * * * *`

  const monthly =
    /^(?:(\d{1,2})(?:st|nd|rd|th)? of (?:the|every) month|month on (?:the |day )?(\d{1,2})(?:st|nd|rd|th)?)(?: at (.+))?$/.exec(
      text,
    )
  if (monthly) {
    const day = Number(monthly[1] ?? monthly[2])
    if (day < 1 || day > 31) fail(` (day ${day} of the month does not exist)`)
    const [minute, hours] = monthly[3] ? times(monthly[3], place) : ['0', '0']
    return `${minute} ${hours} ${day} * *`
  }

  const [, when, at] = /^(.*?)(?:\s*at (.+))?$/.exec(text) ?? []
  const dayField = when === '' || when === undefined ? '*' : daysOf(when)
  if (dayField === undefined) return fail()
  if (!at && dayField === '*') return fail()
  const [minute, hours] = at ? times(at, place) : ['0', '0']
  return `${minute} ${hours} * * ${dayField}`
}

function stepCron(n: number, unit: string, place: string): string {
  if (unit === 'day') {
    if (n === 1) return '0 0 * * *'
    throw new DeclarationError(
      `${place}: cron cannot run every ${n} days evenly (months have different lengths); use 'day at ...' or a cron day-of-month list`,
    )
  }
  const rule = STEPS[unit]
  if (!rule || n < 1 || rule.period % n !== 0) {
    const divisors = rule
      ? Array.from({ length: rule.period }, (_, i) => i + 1).filter((d) => rule.period % d === 0 && d < rule.period)
      : []
    throw new DeclarationError(
      `${place}: ${n} does not divide ${unit === 'hour' ? 'a day' : `a${unit === 'minute' ? 'n hour' : ' minute'}`} evenly, so it cannot repeat every ${n} ${unit}s; use one of ${divisors.join(', ')}`,
    )
  }
  return n === 1 ? (UNITS[unit] ?? rule.cron(1)) : rule.cron(n)
}

/** The cron day-of-week field for 'day', 'weekday', 'weekend', 'monday', 'mon, wed and fri'. */
function daysOf(text: string): string | undefined {
  const phrase = text.replace(/^on /, '')
  if (phrase === 'day' || phrase === 'days' || phrase === 'daily') return '*'
  if (/^week ?days?$/.test(phrase)) return '1-5'
  if (/^week ?ends?$/.test(phrase)) return '0,6'
  const names = phrase.split(/\s*(?:,|\band\b)\s*/).filter(Boolean)
  const numbers = names.map((name) => DAYS[name.replace(/s$/, '')] ?? DAYS[name])
  if (numbers.length === 0 || numbers.some((n) => n === undefined)) return undefined
  return [...new Set(numbers)].sort().join(',')
}

/** `[minute, hourField]` of '9am', '9:30 pm', '17:30', 'noon', 'midnight', '9am and 5pm'. */
function times(text: string, place: string): [string, string] {
  const parsed = text.split(/\s*(?:,|\band\b)\s*/).map((one) => time(one, place))
  const minutes = new Set(parsed.map(([m]) => m))
  if (minutes.size > 1) {
    throw new DeclarationError(
      `${place}: times of one schedule must share their minute ("${text}"); declare two schedules`,
    )
  }
  return [String(parsed[0]?.[0] ?? 0), parsed.map(([, h]) => h).join(',')]
}

function time(text: string, place: string): [number, number] {
  if (text === 'noon') return [0, 12]
  if (text === 'midnight') return [0, 0]
  const match = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/.exec(text)
  const bad = () => new DeclarationError(`${place}: "${text}" is not a time; write '9am', '9:30pm', '17:30', 'noon'`)
  if (!match?.[1]) throw bad()
  let hour = Number(match[1])
  const minute = Number(match[2] ?? 0)
  const half = match[3]
  if (minute > 59) throw bad()
  if (half) {
    if (hour < 1 || hour > 12) throw bad()
    hour = (hour % 12) + (half === 'pm' ? 12 : 0)
  } else if (hour > 23) {
    throw bad()
  }
  return [minute, hour]
}

function minuteOf(text: string, place: string): number {
  const minute = Number(text)
  if (minute > 59) throw new DeclarationError(`${place}: minute ${minute} of the hour does not exist`)
  return minute
}
