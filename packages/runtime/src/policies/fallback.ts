/**
 * `fallback(valueOrFn)`: when the wrapped call fails, answer with a value instead — or with
 * what `fn(error)` returns. The runtime's declared `fallback` option does the same for a run
 * that fails for good.
 *
 * @example
 * const price = await wrap(fallback((error) => cachedPrice), timeout(clock, 500)).execute(fetchPrice)
 */
import type { Policy } from './policy.ts'

/** A fallback's answer: a function of the error (and input), or the value itself. */
export async function fallbackValue(fallback: unknown, error: unknown, input?: unknown): Promise<unknown> {
  return typeof fallback === 'function'
    ? (fallback as (error: unknown, input: unknown) => unknown)(error, input)
    : fallback
}

export function fallback(valueOrFn: unknown): Policy {
  return {
    async execute<T>(fn: (ctx: object) => Promise<T> | T, ctx = {}): Promise<T> {
      try {
        return await fn(ctx)
      } catch (error) {
        return (await fallbackValue(valueOrFn, error)) as T
      }
    },
  }
}
