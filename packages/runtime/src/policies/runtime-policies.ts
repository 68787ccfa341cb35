/**
 * `rt.policies`: the policy values, bound to a runtime's clock and store — so a breaker or a
 * rate limit made here is the same one every worker on that store sees. Options are written
 * and checked exactly as in declarations (`'30s'`, `retry: 3`...).
 *
 * @example
 * const partner = wrap(rt.policies.circuitBreaker('partner-api'), rt.policies.timeout('2s'))
 * await partner.execute(({ signal }) => fetch(url, { signal }))
 */
import type { CircuitBreakerInput, Duration, RateLimitInput, RetryInput } from '@bac/sdk'
import { policyOptions, toMilliseconds } from '@bac/sdk/internal'
import type { Engine } from '../engine.ts'
import type { Policy } from './policy.ts'
import { retry } from './retry.ts'
import { timeout } from './timeout.ts'

export interface RuntimePolicies {
  retry(options?: RetryInput): Policy
  timeout(limit: Duration): Policy
  /** A breaker by name, its state in the store (the same one declarations with this `name` use). */
  circuitBreaker(name: string, options?: true | CircuitBreakerInput): Policy
  /** A rate limit by key, its budget in the store. */
  rateLimit(key: string, options: RateLimitInput): Policy
}

export function runtimePolicies(engine: Engine): RuntimePolicies {
  return {
    retry: (options = {}) =>
      retry(engine.clock, policyOptions({ retry: options }, 'rt.policies.retry()').retry ?? {}, engine.random),
    timeout: (limit) => timeout(engine.clock, toMilliseconds(limit, 'rt.policies.timeout()')),
    circuitBreaker(name, options = true) {
      const normalized = policyOptions(
        { circuitBreaker: options },
        `rt.policies.circuitBreaker('${name}')`,
      ).circuitBreaker
      if (!normalized) throw new TypeError(`rt.policies.circuitBreaker('${name}'): options must not be false`)
      return engine.breakers.policy(name, normalized)
    },
    rateLimit(key, options) {
      const normalized = policyOptions({ rateLimit: options }, `rt.policies.rateLimit('${key}')`).rateLimit
      if (!normalized) throw new TypeError(`rt.policies.rateLimit('${key}'): options are required`)
      return engine.limiter.policy(key, normalized)
    },
  }
}
