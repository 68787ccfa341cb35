/**
 * Race work against a time limit on the runtime's clock. JavaScript cannot stop the work
 * itself; `onTimeout` lets the caller signal it (the run's AbortSignal), and the work's late
 * result or error is dropped.
 *
 * @example
 * await withTimeLimit(clock, charge(), 5000, 'step "charge"')
 */
import type { Clock } from './clock/clock.ts'
import { TimeoutError } from './errors.ts'

export function withTimeLimit<T>(
  clock: Clock,
  work: Promise<T>,
  ms: number | undefined,
  what: string,
  onTimeout?: (error: TimeoutError) => void,
): Promise<T> {
  if (ms === undefined) return work
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(() => {
      const error = new TimeoutError(what, ms)
      onTimeout?.(error)
      reject(error)
    }, ms)
    work.then(
      (value) => {
        timer.cancel()
        resolve(value)
      },
      (error: unknown) => {
        timer.cancel()
        reject(error)
      },
    )
  })
}
