/**
 * The options a handler, operation, job, saga or service declares: retry, timeout,
 * concurrency, priority, idempotency, cache, rate limit. They are checked and normalised at
 * declaration time (durations to milliseconds, `retry: 3` to `{ attempts: 3 }`), so a typo is
 * an error where it was written, never a silent default at run time.
 *
 * @example
 * on($.Order.created, charge, { retry: { attempts: 5, maxDelay: '1m' }, timeout: '30s' })
 */
import { z } from 'zod'
import { toMilliseconds } from './duration.ts'
import { DeclarationError, isValidationError } from './errors.ts'
import { type Schema, validate } from './schema.ts'
import { unknownKeys } from './suggest.ts'
import type { Bivariant, Duration } from './types.ts'

/** Retry as declared: attempts, or the full policy, or `false` for none. */
export type RetryInput =
  | false
  | number
  | {
      /** Total attempts including the first (default 3). */
      readonly attempts?: number
      readonly backoff?: 'exponential' | 'linear' | 'fixed'
      readonly initialDelay?: Duration
      readonly maxDelay?: Duration
      readonly factor?: number
      /** `true` for full jitter, or a fraction of the delay to randomise. */
      readonly jitter?: boolean | number
      /** Error names, codes or classes that fail at once instead of retrying. */
      readonly nonRetryable?: readonly (string | (abstract new (...args: never[]) => Error))[]
    }

export interface RetryOptions {
  readonly attempts?: number
  readonly backoff?: 'exponential' | 'linear' | 'fixed'
  readonly initialDelay?: number
  readonly maxDelay?: number
  readonly factor?: number
  readonly jitter?: boolean | number
  readonly nonRetryable?: readonly (string | (abstract new (...args: never[]) => Error))[]
}

export type PriorityInput = number | 'low' | 'normal' | 'high' | 'critical'

/** Options every executable declaration accepts, as written by users. */
export interface PolicyInput<P = unknown> {
  readonly retry?: RetryInput
  /** Time limit of one attempt. */
  readonly timeout?: Duration
  /** At most this many runs at once, optionally per key (`{ limit: 1, key: (o) => o.customerId }`). */
  readonly concurrency?: number | { readonly limit: number; readonly key?: Bivariant<[payload: P], string> }
  /** Runs with the same key are one run: a duplicate runs nothing. */
  readonly idempotencyKey?: Bivariant<[payload: P], string>
  /** Higher runs first; `'high'` is 10, `'low'` is -10. */
  readonly priority?: PriorityInput
  /**
   * Cache results by (operation, input) for a while: `true`, a TTL, or `{ ttl, key, tags }`
   * (`key` makes entries addressable by `invalidate('products:1')`; `tags` by db writes).
   */
  readonly cache?: boolean | Duration | CacheInput<P>
  /** At most `limit` runs per `window`, per key; over the limit a run waits (or fails with `onLimit: 'fail'`). */
  readonly rateLimit?: RateLimitInput<P>
  /** Stop calling what keeps failing: fail fast while open, probe once after `resetAfter`. */
  readonly circuitBreaker?: boolean | CircuitBreakerInput
  /** What to return when the run fails for good (after its retries, or while its breaker is open). */
  readonly fallback?: unknown
}

export interface CacheInput<P = unknown> {
  readonly ttl?: Duration
  readonly key?: Bivariant<[input: P], string>
  readonly tags?: Bivariant<[input: P, output: unknown], readonly string[]>
  /** The seeds' layers: in-process (`l1`) and shared (`l2`) TTLs and size. */
  readonly l1?: { readonly enabled?: boolean; readonly ttl?: Duration; readonly maxSize?: number }
  readonly l2?: { readonly enabled?: boolean; readonly ttl?: Duration; readonly provider?: string }
  readonly l3?: unknown
}

export interface RateLimitInput<P = unknown> {
  readonly limit?: number
  /** The seeds' name for `limit`. */
  readonly max?: number
  readonly window?: Duration
  readonly key?: Bivariant<[input: P], string>
  readonly algorithm?: 'token-bucket' | 'sliding-window'
  readonly onLimit?: 'wait' | 'fail'
  /** The seeds' service-level shape: the `global` limit applies. */
  readonly global?: { readonly max?: number; readonly limit?: number; readonly window?: Duration }
  readonly [seedKey: string]: unknown
}

export interface CircuitBreakerInput {
  /** Breakers with one name share one state (default: the operation or handler). */
  readonly name?: string
  readonly mode?: 'consecutive' | 'error-rate'
  /** Consecutive failures that open it (default 5). */
  readonly threshold?: number
  /** Error-rate mode: the failure rate (0–1) that opens it (default 0.5)... */
  readonly rate?: number
  /** ...once this many calls were made in the window (default 10). */
  readonly minimumCalls?: number
  readonly window?: Duration
  /** How long it stays open before one probe is let through (default 30 s; the seeds say `timeout`). */
  readonly resetAfter?: Duration
  readonly timeout?: Duration
  readonly [seedKey: string]: unknown
}

/** Handler options: the policies plus a stable name. */
export interface HandlerInput<P = unknown> extends PolicyInput<P> {
  /** Stable name for runs and logs (default: the function's name, else the pattern). */
  readonly name?: string
  /** Collapse a burst of events (per key) into one run, `wait` after the last, at most `maxWait` after the first. */
  readonly debounce?:
    | Duration
    | { readonly wait: Duration; readonly maxWait?: Duration; readonly key?: Bivariant<[payload: P], string> }
}

/** Normalised policy options, as stored in the definition. */
export interface PolicyOptions {
  readonly retry?: RetryOptions | false
  readonly timeout?: number
  readonly concurrency?: { readonly limit: number; readonly key?: (payload: unknown) => string }
  readonly idempotencyKey?: (payload: unknown) => string
  readonly priority?: number
  readonly cache?: CacheOptions
  readonly rateLimit?: RateLimitOptions
  readonly circuitBreaker?: CircuitBreakerOptions
  readonly fallback?: unknown
}

export interface CacheOptions {
  /** How long an entry lives in the shared (store) layer, ms. */
  readonly ttl: number
  /** How long it lives in the in-process layer, ms (≤ ttl; kept short so workers agree). */
  readonly localTtl: number
  readonly maxSize: number
  readonly key?: (input: unknown) => string
  readonly tags?: (input: unknown, output: unknown) => readonly string[]
}

export interface RateLimitOptions {
  readonly limit: number
  readonly window: number
  readonly key?: (input: unknown) => string
  readonly algorithm: 'token-bucket' | 'sliding-window'
  readonly onLimit: 'wait' | 'fail'
}

export interface CircuitBreakerOptions {
  readonly name?: string
  readonly mode: 'consecutive' | 'error-rate'
  readonly threshold: number
  readonly rate: number
  readonly minimumCalls: number
  readonly window: number
  readonly resetAfter: number
}

export interface DebounceOptions {
  readonly wait: number
  readonly maxWait?: number
  readonly key?: (payload: unknown) => string
}

export interface HandlerOptions extends PolicyOptions {
  readonly name?: string
  readonly debounce?: DebounceOptions
}

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return toMilliseconds(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: "expected milliseconds or a duration like '30s'", input: value })
    return z.NEVER
  }
})

/** A duration that must be more than zero (a zero time limit or window would break its policy). */
const positiveDuration = duration.refine((ms) => ms > 0, { message: 'expected a duration of more than 0' })

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: 'expected a function' })

const retry = z.union([
  z.literal(false),
  z
    .number()
    .int()
    .min(1)
    .transform((attempts) => ({ attempts })),
  z.strictObject({
    attempts: z.number().int().min(1).optional(),
    backoff: z.enum(['exponential', 'linear', 'fixed']).optional(),
    initialDelay: duration.optional(),
    maxDelay: duration.optional(),
    factor: z.number().min(1).optional(),
    jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
    nonRetryable: z.array(z.union([z.string(), fn])).optional(),
  }),
])

const PRIORITIES: Readonly<Record<string, number>> = { low: -10, normal: 0, high: 10, critical: 20 }

const policyShape = {
  retry: retry.optional(),
  timeout: positiveDuration.optional(),
  concurrency: z
    .union([
      z
        .number()
        .int()
        .min(1)
        .transform((limit) => ({ limit })),
      z.strictObject({ limit: z.number().int().min(1), key: fn.optional() }),
    ])
    .optional(),
  idempotencyKey: fn.optional(),
  priority: z
    .union([z.number().int(), z.enum(['low', 'normal', 'high', 'critical']).transform((p) => PRIORITIES[p] ?? 0)])
    .optional(),
  cache: z
    .union([
      z.boolean(),
      duration,
      z.strictObject({
        ttl: duration.optional(),
        key: fn.optional(),
        tags: fn.optional(),
        l1: z
          .strictObject({
            enabled: z.boolean().optional(),
            ttl: duration.optional(),
            maxSize: z.number().int().min(1).optional(),
          })
          .optional(),
        l2: z
          .strictObject({ enabled: z.boolean().optional(), ttl: duration.optional(), provider: z.string().optional() })
          .optional(),
        l3: z.unknown().optional(),
      }),
    ])
    .transform((input): CacheOptions | undefined => {
      if (input === false) return undefined
      if (input === true) return { ttl: 60_000, localTtl: 1_000, maxSize: 1000 }
      if (typeof input === 'number') return { ttl: input, localTtl: Math.min(input, 1_000), maxSize: 1000 }
      const ttl = input.ttl ?? input.l2?.ttl ?? input.l1?.ttl ?? 60_000
      return {
        ttl,
        localTtl: Math.min(ttl, input.l1?.ttl ?? 1_000),
        maxSize: input.l1?.maxSize ?? 1000,
        ...(input.key ? { key: input.key as CacheOptions['key'] } : {}),
        ...(input.tags ? { tags: input.tags as CacheOptions['tags'] } : {}),
      }
    })
    .optional(),
  rateLimit: z
    .strictObject({
      limit: z.number().int().min(1).optional(),
      max: z.number().int().min(1).optional(),
      window: positiveDuration.optional(),
      key: fn.optional(),
      keyGenerator: fn.optional(),
      algorithm: z.enum(['token-bucket', 'sliding-window']).optional(),
      onLimit: z.enum(['wait', 'fail']).optional(),
      global: z
        .strictObject({
          max: z.number().int().min(1).optional(),
          limit: z.number().int().min(1).optional(),
          window: positiveDuration.optional(),
        })
        .optional(),
      // The seeds' per-user limit: a limit per key is `key` (e.g. the user's id).
      user: z.unknown().optional(),
    })
    .transform((input, ctx): RateLimitOptions => {
      const limit = input.limit ?? input.max ?? input.global?.limit ?? input.global?.max
      if (limit === undefined) {
        ctx.addIssue({ code: 'custom', message: 'needs a limit (e.g. { limit: 100, window: "1m" })', input })
        return z.NEVER
      }
      const key = input.key ?? input.keyGenerator
      return {
        limit,
        window: input.window ?? input.global?.window ?? 60_000,
        algorithm: input.algorithm ?? 'token-bucket',
        onLimit: input.onLimit ?? 'wait',
        ...(key ? { key: key as RateLimitOptions['key'] } : {}),
      }
    })
    .optional(),
  circuitBreaker: z
    .union([
      z.boolean(),
      z.strictObject({
        name: z.string().min(1).optional(),
        mode: z.enum(['consecutive', 'error-rate']).optional(),
        threshold: z.number().int().min(1).optional(),
        rate: z.number().gt(0).max(1).optional(),
        minimumCalls: z.number().int().min(1).optional(),
        window: positiveDuration.optional(),
        resetAfter: positiveDuration.optional(),
        timeout: positiveDuration.optional(),
        // The seeds' `fallback: 'cached'`: the operation's own `fallback` is what answers.
        fallback: z.unknown().optional(),
      }),
    ])
    .transform((input): CircuitBreakerOptions | undefined => {
      if (input === false) return undefined
      const options = input === true ? {} : input
      return {
        ...(options.name ? { name: options.name } : {}),
        mode: options.mode ?? 'consecutive',
        threshold: options.threshold ?? 5,
        rate: options.rate ?? 0.5,
        minimumCalls: options.minimumCalls ?? 10,
        window: options.window ?? 60_000,
        resetAfter: options.resetAfter ?? options.timeout ?? 30_000,
      }
    })
    .optional(),
  fallback: z.unknown().optional(),
}

const debounce = z
  .union([duration, z.strictObject({ wait: duration, maxWait: duration.optional(), key: fn.optional() })])
  .transform((input): DebounceOptions => (typeof input === 'number' ? { wait: input } : (input as DebounceOptions)))

const policySchema = z.object(policyShape)
const handlerSchema = z.object({ ...policyShape, name: z.string().min(1).optional(), debounce: debounce.optional() })

/** Option names accepted by every executable declaration. */
export const POLICY_KEYS: readonly string[] = Object.keys(policyShape)

/**
 * Check `value` against `schema`, reporting unknown keys (with suggestions) and bad values as a
 * `DeclarationError` that starts with `place`.
 */
export function checkDeclared<T>(schema: Schema<T>, known: readonly string[], value: unknown, place: string): T {
  if (value === undefined) return validate(schema, {}, place)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DeclarationError(`${place}: options must be an object, got ${JSON.stringify(value)}`)
  }
  const unknown = unknownKeys(value, known, place)
  if (unknown) throw new DeclarationError(unknown)
  try {
    return validate(schema, value, place)
  } catch (error) {
    if (isValidationError(error)) throw new DeclarationError(error.message)
    throw error
  }
}

/**
 * Normalised policy options at `place`. Callers that mix policies with keys of their own
 * (a saga step's `name`, `action`) take those out first and name them in `ownKeys`, so that a
 * misspelling of either kind gets a suggestion.
 */
export const policyOptions = (value: unknown, place: string, ownKeys: readonly string[] = []): PolicyOptions =>
  checkDeclared(policySchema, [...POLICY_KEYS, ...ownKeys], value, place) as PolicyOptions

/** Normalised handler options (policies and `name`). */
export const handlerOptions = (value: unknown, place: string): HandlerOptions =>
  checkDeclared(handlerSchema, [...POLICY_KEYS, 'name', 'debounce'], value, place) as HandlerOptions
