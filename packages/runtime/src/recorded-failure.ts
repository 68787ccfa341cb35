/**
 * A durable write that failed, recorded like a result. Code may catch the failure and go on
 * (an optimistic `ifVersion` loop, a conditional update that did not apply): a replay must then
 * meet the same failure at the same point, or the writes after it would shift onto each other's
 * keys and results. The error thrown carries the step's key; when it is what fails the run, the
 * executor forgets the record, so that the retry tries the write again.
 *
 * @example
 * const stored = await save(key, failure(error))
 * if (isFailure(stored)) throw recorded(error, key)
 */
import { fromErrorInfo, toErrorInfo } from './errors.ts'
import type { ErrorInfo } from './store/store.ts'

const FAILED = '$bacFailed'
const KEY = Symbol.for('bac.recordedFailure')

export interface Failure {
  readonly [FAILED]: ErrorInfo
}

export const failure = (error: unknown): Failure => ({ [FAILED]: toErrorInfo(error) })

export const isFailure = (value: unknown): value is Failure =>
  typeof value === 'object' && value !== null && FAILED in value

/** The error to throw for a recorded failure: `error` itself, or rebuilt from the record; marked with its key. */
export function recorded(error: unknown, key: string): unknown {
  const thrown = isFailure(error) ? fromErrorInfo(error[FAILED]) : error
  if (typeof thrown === 'object' && thrown !== null)
    Object.defineProperty(thrown, KEY, { value: key, configurable: true })
  return thrown
}

/** The key of the recorded failure this error is, if it is one. */
export const recordedKeyOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null
    ? ((error as Record<symbol, unknown>)[KEY] as string | undefined)
    : undefined
