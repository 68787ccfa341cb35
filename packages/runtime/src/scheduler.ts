/**
 * Cron for `every` and service jobs. Each schedule's next tick lives in the store; a tick is
 * fired by moving it on and enqueuing its run in one transaction, conditional on the tick not
 * having moved — so it fires once, however many workers look. After downtime a schedule fires
 * once, for its latest missed tick, and records how many it skipped rather than replaying a
 * burst.
 *
 * @example
 * const scheduler = new Scheduler(engine)
 * await scheduler.start()
 */
import type { ScheduleDefinition } from '@bac/sdk'
import { Cron } from 'croner'
import type { Timer } from './clock/clock.ts'
import type { Engine } from './engine.ts'
import { newId } from './ids.ts'
import type { ScheduleRecord } from './store/store.ts'

/** Stop counting missed ticks here (an every-second job down for a year). */
const MAX_COUNTED = 100_000

export class Scheduler {
  private timer: Timer | undefined
  private stopped = true
  private readonly crons = new Map<string, Cron>()

  constructor(private readonly engine: Engine) {}

  /** Sync the active definition's schedules to the store and arm the next tick (again after a deploy). */
  async start(): Promise<void> {
    this.crons.clear()
    for (const schedule of this.engine.business.schedules) {
      this.crons.set(schedule.name, new Cron(schedule.cron, { paused: true, ...zone(schedule) }))
    }
    const now = this.engine.clock.now()
    await this.engine.store.syncSchedules(
      this.engine.business.schedules.map((schedule) => ({
        name: schedule.name,
        cron: schedule.cron,
        ...(schedule.timezone ? { timezone: schedule.timezone } : {}),
        nextAt: this.after(schedule.name, now),
      })),
    )
    this.stopped = false
    await this.tick()
  }

  stop(): void {
    this.stopped = true
    this.timer?.cancel()
  }

  /** Fire what is due, then arm the timer for the next tick. */
  async tick(): Promise<void> {
    if (this.stopped) return
    const now = this.engine.clock.now()
    const schedules = (await this.engine.store.listSchedules()).filter((s) => s.active && this.crons.has(s.name))
    for (const schedule of schedules) if (schedule.nextAt <= now) await this.fire(schedule, now)
    await this.arm()
  }

  private async fire(schedule: ScheduleRecord, now: number): Promise<void> {
    let latest = schedule.nextAt
    let next = this.after(schedule.name, latest)
    let missed = 0
    while (next <= now && missed < MAX_COUNTED) {
      latest = next
      next = this.after(schedule.name, latest)
      missed++
    }
    while (next <= now) next = this.after(schedule.name, now)
    const definition = this.engine.catalog.schedule(schedule.name) as ScheduleDefinition
    const { priority } = this.engine.policiesOf(this.engine.catalog.service(definition.service), definition.options)
    const fired = await this.engine.store.fireSchedule(
      schedule.name,
      schedule.nextAt,
      { nextAt: next, firedAt: now, missed },
      {
        id: newId(),
        kind: 'schedule',
        name: schedule.name,
        input: { scheduledAt: latest },
        idempotencyKey: `tick:${latest}`,
        ...(priority === undefined ? {} : { priority }),
        availableAt: now,
        ...(this.engine.version ? { version: this.engine.version } : {}),
      },
    )
    if (!fired) return
    if (missed > 0) {
      this.engine.log.warn('schedule missed ticks while the runtime was down; fired once, for the latest', {
        schedule: schedule.name,
        missed,
        firedFor: new Date(latest).toISOString(),
      })
    }
    this.engine.emitter.emit('work', undefined)
  }

  private async arm(): Promise<void> {
    this.timer?.cancel()
    if (this.stopped) return
    const schedules = (await this.engine.store.listSchedules()).filter((s) => s.active && this.crons.has(s.name))
    if (schedules.length === 0) return
    const next = Math.min(...schedules.map((s) => s.nextAt))
    this.timer = this.engine.clock.setTimer(() => void this.tickSafely(), Math.max(0, next - this.engine.clock.now()))
  }

  /** A tick from the timer: a store error is logged and retried, never left unhandled. */
  private async tickSafely(): Promise<void> {
    try {
      await this.tick()
    } catch (error) {
      this.engine.log.error('firing schedules failed; trying again in 5 s', { error: (error as Error).message })
      if (!this.stopped) this.timer = this.engine.clock.setTimer(() => void this.tickSafely(), 5000)
    }
  }

  /** The first tick strictly after `time`. */
  private after(name: string, time: number): number {
    const next = this.crons.get(name)?.nextRun(new Date(time))
    return next ? next.getTime() : Number.MAX_SAFE_INTEGER
  }
}

const zone = (schedule: ScheduleDefinition) => (schedule.timezone ? { timezone: schedule.timezone } : {})
