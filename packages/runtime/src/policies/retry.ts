/**
 * `retry(clock, options)`: try again after a failure, with the same backoff, jitter and
 * non-retryable rules the runtime applies to runs — in memory, for a call inside your code
 * (a run's own retries are durable and need nothing of this).
 *
 * @example
 * await wrap(retry(realClock, { attempts: 4, initialDelay: 200 }), timeout(realClock, 1000)).execute(callPartner)
 */
import type { RetryOptions } from '@bac/sdk'
import type { Clock } from '../clock/clock.ts'
import { retryDecision } from '../retry-policy.ts'
import type { Policy } from './policy.ts'

export function retry(clock: Clock, options: RetryOptions | false = {}, random: () => number = Math.random): Policy {
  return {
    async execute(fn, ctx = {}) {
      for (let failures = 0; ; ) {
        try {
          return await fn(ctx)
        } catch (error) {
          failures++
          const decision = retryDecision(options, failures, error, random)
          if (!decision.retry || ctx.signal?.aborted) throw error
          await new Promise<void>((resolve) => clock.setTimer(resolve, decision.delay))
        }
      }
    },
  }
}
