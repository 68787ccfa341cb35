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
  readonly cache?: boolean | Readonly<Record<string, unknown>>
  readonly rateLimit?: Readonly<Record<string, unknown>>
}

/** Handler options: the policies plus a stable name. */
export interface HandlerInput<P = unknown> extends PolicyInput<P> {
  /** Stable name for runs and logs (default: the function's name, else the pattern). */
  readonly name?: string
}

/** Normalised policy options, as stored in the definition. */
export interface PolicyOptions {
  readonly retry?: RetryOptions | false
  readonly timeout?: number
  readonly concurrency?: { readonly limit: number; readonly key?: (payload: unknown) => string }
  readonly idempotencyKey?: (payload: unknown) => string
  readonly priority?: number
  readonly cache?: boolean | Readonly<Record<string, unknown>>
  readonly rateLimit?: Readonly<Record<string, unknown>>
}

export interface HandlerOptions extends PolicyOptions {
  readonly name?: string
}

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return toMilliseconds(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: "expected milliseconds or a duration like '30s'", input: value })
    return z.NEVER
  }
})

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
  timeout: duration.optional(),
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
  cache: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
  rateLimit: z.record(z.string(), z.unknown()).optional(),
}

const policySchema = z.object(policyShape)
const handlerSchema = z.object({ ...policyShape, name: z.string().min(1).optional() })

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
  checkDeclared(handlerSchema, [...POLICY_KEYS, 'name'], value, place) as HandlerOptions
