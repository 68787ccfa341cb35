/**
 * `timeout(clock, ms)`: fail an attempt that takes longer than `ms` with a `TimeoutError`,
 * aborting the signal it passes on (so cooperative code stops).
 *
 * @example
 * await timeout(realClock, 5000).execute(({ signal }) => fetch(url, { signal }))
 */
import type { Clock } from '../clock/clock.ts'
import { withTimeLimit } from '../time-limit.ts'
import type { Policy } from './policy.ts'

export function timeout(clock: Clock, ms: number): Policy {
  return {
    execute(fn, ctx = {}) {
      const controller = new AbortController()
      ctx.signal?.addEventListener('abort', () => controller.abort(ctx.signal?.reason), { once: true })
      const work = Promise.resolve().then(() => fn({ ...ctx, signal: controller.signal }))
      return withTimeLimit(clock, work, ms, 'the call', (error) => controller.abort(error))
    },
  }
}
