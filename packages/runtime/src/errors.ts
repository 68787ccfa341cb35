/**
 * Runtime errors, and errors as stored: a run's error is kept as `ErrorInfo` (name, message,
 * stack, code) and rebuilt into an `Error` for whoever awaits that run.
 *
 * @example
 * const info = toErrorInfo(new TimeoutError('charge', 5000))
 */
import { BacError } from '@bac/sdk'
import type { ErrorInfo } from './store/store.ts'

/** A run's attempt or a step ran past its time limit. Retried like any failure. */
export class TimeoutError extends BacError {
  readonly code = 'BAC_TIMEOUT'

  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`)
  }
}

/** A run names a handler, operation or schedule the business does not declare (any more). */
export class UnknownTargetError extends BacError {
  readonly code = 'BAC_UNKNOWN_TARGET'
  override readonly retryable = false
}

/** `send` to a verb or `call` to an operation that no service offers. */
export class UnknownOperationError extends BacError {
  readonly code = 'BAC_UNKNOWN_OPERATION'
  override readonly retryable = false
}

/** The runtime was asked for something before `start()` or after `stop()`. */
export class RuntimeStateError extends BacError {
  readonly code = 'BAC_RUNTIME_STATE'
  override readonly retryable = false
}

export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const { code, retryable } = error as Error & { code?: unknown; retryable?: unknown }
    return {
      name: error.name,
      message: error.message,
      ...(error.stack ? { stack: error.stack } : {}),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
    }
  }
  return { name: 'Error', message: typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error)) }
}

/** An `Error` carrying a stored error's name, message, code and stack. */
export function fromErrorInfo(info: ErrorInfo): Error {
  const error = new Error(info.message) as Error & { code?: string; retryable?: boolean }
  error.name = info.name
  if (info.stack) error.stack = info.stack
  if (info.code) error.code = info.code
  if (info.retryable !== undefined) error.retryable = info.retryable
  return error
}
