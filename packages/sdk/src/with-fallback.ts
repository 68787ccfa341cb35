/**
 * `withFallback(primary, fallback, { timeout })`: try the primary; if it fails — or takes
 * longer than `timeout` — answer with the fallback instead (given the error). The primary
 * gets an AbortSignal that fires on the timeout, so `fetch` and friends stop too.
 * For whole operations, declare `fallback` and `timeout` as options: the runtime applies them
 * durably, after retries. This is for a call inside your own code.
 *
 * @example
 * const rates = await withFallback(
 *   ({ signal }) => fetch(RATES_URL, { signal }).then((r) => r.json()),
 *   () => lastKnownRates,
 *   { timeout: '2s', onFallback: (error) => log.warn('rates are stale', { error: error.message }) },
 * )
 */
import { toMilliseconds } from './duration.ts'
import { TimeoutError } from './errors.ts'
import type { Duration } from './types.ts'

export interface WithFallbackOptions {
  /** How long the primary may take (default: no limit). */
  readonly timeout?: Duration
  /** Told each time the fallback answers (for a log line or a metric). */
  readonly onFallback?: (error: Error) => void
}

export async function withFallback<T>(
  primary: (ctx: { readonly signal: AbortSignal }) => T | Promise<T>,
  fallback: (error: Error) => T | Promise<T>,
  options: WithFallbackOptions = {},
): Promise<T> {
  const ms = options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'withFallback() timeout')
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired =
    ms === undefined
      ? undefined
      : new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new TimeoutError('withFallback() primary', ms)
            controller.abort(error)
            reject(error)
          }, ms)
        })
  try {
    const work = Promise.resolve().then(() => primary({ signal: controller.signal }))
    return await (expired ? Promise.race([work, expired]) : work)
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught))
    options.onFallback?.(error)
    return await fallback(error)
  } finally {
    clearTimeout(timer)
  }
}
