/**
 * A clock for tests that moves only when told to. `advance(ms)` fires every timer that falls
 * due, in time order, letting the work each one starts settle before moving on — so a test
 * can step through a week of retries, sleeps and cron ticks in milliseconds.
 *
 * @example
 * const clock = virtualClock('2026-01-05T08:59:00Z')
 * const rt = await createRuntime({ business, store, clock })
 * await clock.advance('1m')   // the 9:00 job fires
 * await rt.drain()
 */
import { toMilliseconds } from '@bac/sdk/internal'
import type { Clock, Timer } from './clock.ts'

interface Pending {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
  cancelled: boolean
}

export interface VirtualClock extends Clock {
  /** Move time forward, firing due timers in order. */
  advance(duration: number | string): Promise<void>
  /** Move time forward to an instant. */
  advanceTo(when: Date | string | number): Promise<void>
  /** Timers waiting to fire. */
  readonly pending: number
  /**
   * Register work to wait for between timers (the runtime attaches its "idle" here), so the
   * timers a fired timer leads to — a retry after a failure, say — are seen in the same advance.
   */
  attach(quiesce: () => Promise<void>): () => void
}

/** Let promise chains started by a timer run before time moves again. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

export function virtualClock(start: Date | string | number = '2026-01-01T00:00:00Z'): VirtualClock {
  let now = new Date(start).getTime()
  let seq = 0
  const timers: Pending[] = []
  const quiescers = new Set<() => Promise<void>>()
  const quiet = async () => {
    await settle()
    await Promise.all([...quiescers].map((quiesce) => quiesce()))
  }

  const advanceTo = async (target: number) => {
    for (;;) {
      await quiet()
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = timers[0]
      if (!next || next.at > target) break
      timers.shift()
      now = Math.max(now, next.at)
      if (!next.cancelled) next.fn()
    }
    now = Math.max(now, target)
    await quiet()
  }

  return {
    now: () => now,
    setTimer(fn, ms): Timer {
      const timer: Pending = { at: now + Math.max(0, ms), seq: seq++, fn, cancelled: false }
      timers.push(timer)
      return {
        cancel: () => {
          timer.cancelled = true
          const index = timers.indexOf(timer)
          if (index >= 0) timers.splice(index, 1)
        },
      }
    },
    advance: (duration) => advanceTo(now + toMilliseconds(duration as number, 'advance()')),
    advanceTo: (when) => advanceTo(new Date(when).getTime()),
    get pending() {
      return timers.length
    },
    attach(quiesce) {
      quiescers.add(quiesce)
      return () => quiescers.delete(quiesce)
    },
  }
}
