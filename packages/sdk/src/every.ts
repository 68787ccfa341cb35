/**
 * `every(schedule, handler, options?)`: run `handler` on a schedule, each firing a durable run.
 * Schedules are cron or natural (see `parseSchedule`), and have builders:
 * `every.hour(fn)`, `every.day.at('9am', fn)`, `every.monday.at('9am', fn)`,
 * `every.minutes(15, fn)`. Without a handler a builder returns the schedule itself, for
 * service jobs: `jobs: { digest: { schedule: every.day.at('9am'), handler } }`.
 *
 * @example
 * every('Monday at 9am', async () => send($.Report.weekly, await weeklyStats()))
 * every('0 0 * * *', cleanup, { timezone: 'Europe/Berlin', name: 'nightly-cleanup' })
 */
import { activeCollector, type Declared, declares } from './collector.ts'
import type { Context } from './context.ts'
import type { ScheduleDefinition } from './definition.ts'
import { DeclarationError } from './errors.ts'
import { assertFunction, functionName, sourceField } from './on.ts'
import { type HandlerInput, policyOptions } from './options.ts'
import { checkCron, parseSchedule, type Schedule } from './schedule.ts'
import { sendsOf } from './sends-of.ts'

/** A scheduled job: gets the firing time and the run's context. */
export type Job = (tick: { readonly scheduledAt: Date }, ctx: Context) => unknown

export interface ScheduleOptions extends HandlerInput {
  /** IANA timezone the schedule is read in (default: the runtime's, UTC on servers). */
  readonly timezone?: string
}

/** Anything that names a schedule: a string, a parsed `Schedule`, or a builder like `every.hour`. */
export type ScheduleInput = string | Schedule

type Declare = (handler: Job, options?: ScheduleOptions) => ScheduleDefinition & Declared

/** A schedule builder: call it with a handler to declare, or use it as a schedule value. */
export type ScheduleBuilder = Declare &
  Schedule & {
    /** The same, at a time of day (or, for `every.hour`, a minute past the hour). */
    at(time: string | number): Schedule
    at(time: string | number, handler: Job, options?: ScheduleOptions): ScheduleDefinition & Declared
  }

type Every = {
  (schedule: ScheduleInput, handler: Job, options?: ScheduleOptions): ScheduleDefinition & Declared
  seconds(n: number): Schedule
  seconds(n: number, handler: Job, options?: ScheduleOptions): ScheduleDefinition & Declared
  minutes(n: number): Schedule
  minutes(n: number, handler: Job, options?: ScheduleOptions): ScheduleDefinition & Declared
  hours(n: number): Schedule
  hours(n: number, handler: Job, options?: ScheduleOptions): ScheduleDefinition & Declared
} & {
  readonly [U in Unit]: ScheduleBuilder
}

type Unit =
  | 'second'
  | 'minute'
  | 'hour'
  | 'day'
  | 'week'
  | 'month'
  | 'weekday'
  | 'weekend'
  | 'monday'
  | 'tuesday'
  | 'wednesday'
  | 'thursday'
  | 'friday'
  | 'saturday'
  | 'sunday'

/** Resolve any schedule input to a checked `Schedule`. */
export function toSchedule(input: unknown, place: string): Schedule {
  if (typeof input === 'string') return parseSchedule(input, place)
  const candidate = input as Partial<Schedule> | undefined
  if ((typeof input === 'object' || typeof input === 'function') && typeof candidate?.cron === 'string') {
    checkCron(candidate.cron, place)
    return { cron: candidate.cron, description: candidate.description ?? candidate.cron }
  }
  throw new DeclarationError(
    `${place}: expected a schedule such as '0 9 * * 1' or 'Monday at 9am', got ${typeof input}`,
  )
}

/** Build (without registering) a schedule definition; shared by `every` and service jobs. */
export function scheduleDefinition(
  input: unknown,
  handler: unknown,
  options: unknown,
  place: string,
  fixed?: { readonly name: string; readonly service: string },
): ScheduleDefinition {
  const schedule = toSchedule(input, place)
  assertFunction(handler, place)
  const { name, timezone, ...policy } = (options ?? {}) as ScheduleOptions
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new DeclarationError(`${place}: name must be a non-empty string, got ${JSON.stringify(name)}`)
  }
  if (timezone !== undefined) checkCron(schedule.cron, place, timezone)
  const collector = activeCollector()
  return {
    kind: 'schedule',
    name:
      fixed?.name ?? name ?? collector.uniqueName('schedule', functionName(handler) ?? `every ${schedule.description}`),
    cron: schedule.cron,
    description: schedule.description,
    ...(timezone ? { timezone } : {}),
    handler,
    options: policyOptions(policy, place, ['name', 'timezone']),
    sends: sendsOf(handler),
    ...(fixed ? { service: fixed.service } : {}),
    ...sourceField(),
  }
}

function declare(input: unknown, handler: unknown, options: unknown, place: string): ScheduleDefinition & Declared {
  const definition = scheduleDefinition(input, handler, options, place)
  activeCollector().add(definition)
  return Object.freeze(declares(definition, [definition]))
}

/** A builder for `phrase` ('day', 'monday'...), whose `.at(t)` is `'<phrase> at <t>'`. */
function builder(phrase: string): ScheduleBuilder {
  const schedule = parseSchedule(phrase, `every.${phrase}`)
  const call = (handler: Job, options?: ScheduleOptions) => declare(schedule, handler, options, `every.${phrase}()`)
  const at = (time: string | number, handler?: Job, options?: ScheduleOptions) => {
    const spoken = phrase === 'hour' ? `hour at :${String(time).replace(/^:/, '')}` : `${phrase} at ${time}`
    const place = `every.${phrase}.at(${JSON.stringify(time)})`
    const parsed = parseSchedule(spoken, place)
    return handler === undefined ? parsed : declare(parsed, handler, options, place)
  }
  return Object.freeze(
    Object.assign(call, { cron: schedule.cron, description: schedule.description, at }),
  ) as ScheduleBuilder
}

function stepper(unit: string) {
  return (n: number, handler?: Job, options?: ScheduleOptions) => {
    const place = `every.${unit}s(${n})`
    const schedule = parseSchedule(`${n} ${unit}s`, place)
    return handler === undefined ? schedule : declare(schedule, handler, options, place)
  }
}

const UNIT_NAMES: readonly Unit[] = [
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'weekday',
  'weekend',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
]

const everyFn = (schedule: ScheduleInput, handler: Job, options?: ScheduleOptions) =>
  declare(
    schedule,
    handler,
    options,
    `every(${JSON.stringify(typeof schedule === 'string' ? schedule : schedule?.description)})`,
  )

export const every: Every = Object.freeze(
  Object.assign(everyFn, Object.fromEntries(UNIT_NAMES.map((unit) => [unit, builder(unit)])), {
    seconds: stepper('second'),
    minutes: stepper('minute'),
    hours: stepper('hour'),
  }),
) as unknown as Every
