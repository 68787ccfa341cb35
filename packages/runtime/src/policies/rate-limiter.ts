/**
 * Rate limits whose state lives in the store, shared by every worker: a token bucket (bursts up
 * to the limit, refilled evenly over the window) or a sliding window (at most `limit` in any
 * window, estimated from this and the previous fixed window). Each key — the operation, or
 * what `key(input)` returns, say a customer id — has its own budget.
 *
 * @example
 * const { allowed, retryAfter } = await limiter.acquire('Email.send:cust-1', options)
 */
import { BacError, type RateLimitOptions } from '@bac/sdk'
import type { Clock } from '../clock/clock.ts'
import type { StateStore } from '../store/store.ts'
import type { Policy } from './policy.ts'

/** Over the limit: try again in `retryAfter` ms. */
export class RateLimitError extends BacError {
  readonly code = 'BAC_RATE_LIMITED'
  override readonly retryable = false

  constructor(
    readonly key: string,
    readonly retryAfter: number,
  ) {
    super(`rate limit of "${key}" reached; try again in ${retryAfter} ms`)
  }
}

type Bucket = { readonly tokens: number; readonly at: number }
type Window = { readonly start: number; readonly count: number; readonly previous: number }

/** Allowed (now, or `after` ms for a booked token), or not: ask again in `retryAfter` ms. */
export type Admission =
  | { readonly allowed: true; readonly after?: number }
  | { readonly allowed: false; readonly retryAfter: number }

/**
 * Take a token from the bucket. Over the limit, `book` takes the next one anyway — the bucket
 * goes below zero — and says when it is due: waiters get successive slots instead of all
 * waking at once to fight over one token.
 */
export function takeToken(
  bucket: Bucket | undefined,
  now: number,
  { limit, window }: RateLimitOptions,
  book = false,
): { bucket: Bucket; admission: Admission } {
  const rate = limit / window
  const tokens = Math.min(limit, (bucket?.tokens ?? limit) + (now - (bucket?.at ?? now)) * rate)
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, admission: { allowed: true } }
  const due = Math.ceil(((1 - tokens) * window) / limit)
  if (book) return { bucket: { tokens: tokens - 1, at: now }, admission: { allowed: true, after: due } }
  return { bucket: { tokens, at: now }, admission: { allowed: false, retryAfter: due } }
}

export function takeSlot(
  state: Window | undefined,
  now: number,
  { limit, window }: RateLimitOptions,
): { window: Window; admission: Admission } {
  const start = Math.floor(now / window) * window
  const current: Window =
    !state || state.start < start - window
      ? { start, count: 0, previous: 0 }
      : state.start < start
        ? { start, count: 0, previous: state.count }
        : state
  const weight = 1 - (now - current.start) / window
  const estimate = current.previous * weight + current.count
  if (estimate + 1 <= limit) return { window: { ...current, count: current.count + 1 }, admission: { allowed: true } }
  const waitForPrevious =
    current.previous > 0 ? ((estimate + 1 - limit) / current.previous) * window : Number.POSITIVE_INFINITY
  const retryAfter = Math.ceil(Math.min(current.start + window - now, waitForPrevious))
  return { window: current, admission: { allowed: false, retryAfter: Math.max(1, retryAfter) } }
}

export class RateLimiter {
  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {}

  /** A limit as a policy value, shared by every worker on the store: over it, wait (or fail). */
  policy(key: string, options: RateLimitOptions): Policy {
    const wait = (ms: number) => new Promise<void>((resolve) => this.clock.setTimer(resolve, ms))
    return {
      execute: async (fn, ctx = {}) => {
        for (;;) {
          const admission = await this.acquire(key, options, options.onLimit !== 'fail')
          if (admission.allowed) {
            if (admission.after) await wait(admission.after)
            return fn(ctx)
          }
          if (options.onLimit === 'fail') throw new RateLimitError(key, admission.retryAfter)
          await wait(admission.retryAfter)
        }
      },
    }
  }

  /**
   * Take a token of `key`'s budget. With `book`, a token bucket over its limit books the next
   * token instead (allowed `after` ms); a sliding window cannot book, and says when to ask again.
   */
  acquire(key: string, options: RateLimitOptions, book = false): Promise<Admission> {
    const now = this.clock.now()
    if (options.algorithm === 'sliding-window') {
      return this.state.update<Window, Admission>(
        'limit',
        key,
        (current) => {
          const { window, admission } = takeSlot(current, now, options)
          return { value: window, result: admission }
        },
        now,
      )
    }
    return this.state.update<Bucket, Admission>(
      'limit',
      key,
      (current) => {
        const { bucket, admission } = takeToken(current, now, options, book)
        return { value: bucket, result: admission }
      },
      now,
    )
  }
}
