/**
 * The wall clock. Timers do not keep the process alive on their own: the runtime's own work
 * (or a server) does.
 *
 * @example
 * createRuntime({ business, store, clock: realClock })
 */
import type { Clock, Timer } from './clock.ts'

/** setTimeout's ceiling; longer delays are re-armed in steps. */
const MAX_DELAY = 2 ** 31 - 1

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms): Timer {
    let handle: NodeJS.Timeout
    const arm = (remaining: number) => {
      handle = setTimeout(
        () => (remaining > MAX_DELAY ? arm(remaining - MAX_DELAY) : fn()),
        Math.min(remaining, MAX_DELAY),
      )
      handle.unref()
    }
    arm(Math.max(0, ms))
    return { cancel: () => clearTimeout(handle) }
  },
}
