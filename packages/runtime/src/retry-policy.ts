/**
 * Whether and when a failed run is tried again: exponential (or linear, or fixed) backoff with
 * jitter, capped; errors that say they are not retryable (validation errors,
 * `NonRetryableError`) or that the policy lists in `nonRetryable` fail at once.
 *
 * @example
 * retryDecision({ attempts: 5, initialDelay: 1000 }, 2, new Error('503'))
 * // { retry: true, delay: ~2000 }
 */
import type { RetryOptions } from '@bac/sdk'

export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'nonRetryable'>> = {
  attempts: 3,
  backoff: 'exponential',
  initialDelay: 1000,
  factor: 2,
  maxDelay: 300_000,
  jitter: true,
}

export type RetryDecision =
  | { readonly retry: false; readonly reason: string }
  | { readonly retry: true; readonly delay: number }

function listed(policy: RetryOptions, error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown }
  return (policy.nonRetryable ?? []).some((entry) =>
    typeof entry === 'string' ? entry === name || entry === code : error instanceof (entry as abstract new () => Error),
  )
}

/** The delay before attempt `failures + 1`, given `failures` so far (≥ 1). */
export function backoff(policy: RetryOptions, failures: number, random: () => number = Math.random): number {
  const initial = policy.initialDelay ?? DEFAULT_RETRY.initialDelay
  const factor = policy.factor ?? DEFAULT_RETRY.factor
  const kind = policy.backoff ?? DEFAULT_RETRY.backoff
  const raw = kind === 'fixed' ? initial : kind === 'linear' ? initial * failures : initial * factor ** (failures - 1)
  const capped = Math.min(raw, policy.maxDelay ?? DEFAULT_RETRY.maxDelay)
  const jitter = policy.jitter ?? DEFAULT_RETRY.jitter
  // "Equal jitter": keep at least half the delay so retries never bunch up at zero.
  const spread = jitter === false ? 0 : jitter === true ? 0.5 : jitter
  return Math.round(capped * (1 - spread + spread * random()))
}

export function retryDecision(
  policy: RetryOptions | false | undefined,
  failures: number,
  error: unknown,
  random: () => number = Math.random,
): RetryDecision {
  if ((error as { retryable?: unknown } | undefined)?.retryable === false) {
    return { retry: false, reason: 'the error is not retryable' }
  }
  if (policy === false) return { retry: false, reason: 'retries are off' }
  const options = policy ?? {}
  if (listed(options, error)) return { retry: false, reason: 'the policy lists this error as not retryable' }
  const attempts = options.attempts ?? DEFAULT_RETRY.attempts
  if (failures >= attempts) return { retry: false, reason: `all ${attempts} attempts failed` }
  return { retry: true, delay: backoff(options, failures, random) }
}
