/**
 * Runtime errors, and errors as stored: a run's error is kept as `ErrorInfo` (name, message,
 * stack, code) and rebuilt into an `Error` for whoever awaits that run.
 *
 * @example
 * const info = toErrorInfo(new TimeoutError('charge', 5000))
 */
import { BacError, NonRetryableError } from '@bac/sdk'
import type { ErrorInfo } from './store/store.ts'

export { TimeoutError } from '@bac/sdk'

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

/**
 * Why a run's `ctx.signal` aborts when its attempt is suspended (it waits for a time, an event
 * or another run): this attempt is over, and the run resumes in a new one, replaying what is stored.
 */
export class SuspendedError extends BacError {
  readonly code = 'BAC_SUSPENDED'
  constructor() {
    super('the run is suspended: it resumes in a new attempt, from what is stored')
  }
}

/** A policy's key function (`rateLimit.key`, `cache.key`...) threw on a run's input: no retry can help. */
export class PolicyKeyError extends NonRetryableError {
  override readonly code = 'BAC_POLICY_KEY'
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

/** A saga step failed and every finished step was undone: the saga ends `compensated`. */
export class SagaCompensatedError extends BacError {
  readonly code = 'BAC_SAGA_COMPENSATED'
  override readonly retryable = false

  constructor(
    saga: string,
    readonly step: string,
    cause: ErrorInfo,
  ) {
    super(`saga "${saga}" failed at step "${step}" (${cause.name}: ${cause.message}); finished steps were compensated`)
    this.cause = cause
  }
}

/** Undoing a finished saga step failed after its retries: a person must look (dead-letter queue). */
export class SagaCompensationFailedError extends BacError {
  readonly code = 'BAC_SAGA_COMPENSATION_FAILED'
  override readonly retryable = false

  constructor(saga: string, step: string, failedAt: string, cause: ErrorInfo) {
    super(
      `saga "${saga}" failed at step "${failedAt}", and compensating step "${step}" failed too (${cause.name}: ${cause.message}); ` +
        'the steps after it were compensated, this one and those before it were not',
    )
    this.cause = cause
  }
}

/**
 * A step, run or payload value that cannot be stored durably (a class instance, a function).
 * Not retried: the same code returns the same kind of value.
 */
export class UnstorableValueError extends BacError {
  readonly code = 'BAC_UNSTORABLE_VALUE'
  override readonly retryable = false

  constructor(
    readonly reason: string,
    what = 'a value',
  ) {
    super(
      `${what} cannot be stored durably: ${reason}. Return plain data — objects, arrays, strings, numbers, ` +
        'booleans, null, Dates, Maps, Sets — and rebuild class instances from it',
    )
  }

  /** The same error, saying whose value it was. */
  about(what: string): UnstorableValueError {
    return new UnstorableValueError(this.reason, what)
  }
}

/** A write would break a unique index made by `db.createIndex(..., { unique: true })`, or reuse an id. */
export class UniqueViolationError extends BacError {
  readonly code = 'BAC_UNIQUE'
  override readonly retryable = false

  constructor(
    message: string,
    readonly type: string,
    readonly fields: readonly string[],
  ) {
    super(message)
  }
}

/** A db call that cannot work as written: a missing document, a bad query, a collection not yours. */
export class DbError extends BacError {
  readonly code: string = 'BAC_DB'
  override readonly retryable = false
}

/** A db call about a document that does not exist (an update by id). */
export class DocumentNotFoundError extends DbError {
  override readonly code = 'BAC_NOT_FOUND'
}
