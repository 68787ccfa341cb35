/**
 * Errors of bac. Every kind has its own class with a stable `code` and an `isX` guard that
 * checks the code rather than `instanceof`, because a business loaded by `load()` may hold a
 * second copy of this module (its classes are then different objects, its codes the same).
 *
 * @example
 * try { on('Order..created', fn) } catch (e) { if (isDeclarationError(e)) console.error(e.message) }
 */
export abstract class BacError extends Error {
  abstract readonly code: string
  /** Whether a retry could succeed; the runtime never retries a non-retryable error. */
  readonly retryable: boolean = true

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

export const hasCode = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code

/**
 * A business was declared wrongly: a bad pattern, a duplicate name, a missing handler, a bad
 * schedule. Thrown at declaration time, before anything runs; the message names the place.
 *
 * @example
 * every('every blue moon', fn) // DeclarationError: every('every blue moon'): ...
 */
export class DeclarationError extends BacError {
  readonly code = 'BAC_DECLARATION'
  override readonly retryable = false
}
export const isDeclarationError = (e: unknown): e is DeclarationError => hasCode(e, 'BAC_DECLARATION')

/**
 * Data did not match its schema: an event payload, an operation's input or output. Never
 * retried, because the same data would fail the same way.
 *
 * @example
 * // Order.created payload: total must be a number, got "10"
 */
export class ValidationError extends BacError {
  readonly code = 'BAC_VALIDATION'
  override readonly retryable = false

  constructor(
    message: string,
    /** One entry per failing field: its dotted path, what was expected, what was received. */
    readonly issues: readonly ValidationIssue[],
  ) {
    super(message)
  }
}
export const isValidationError = (e: unknown): e is ValidationError => hasCode(e, 'BAC_VALIDATION')

export interface ValidationIssue {
  readonly path: string
  readonly message: string
  readonly expected?: string
  readonly received?: string
}

/**
 * `send`, `db`, `ai`, `step`... were called where no runtime executes the code: a plain
 * `node file.ts`, or a unit test that imported a handler and called it directly.
 *
 * @example
 * await send($.Order.created, order) // outside `bac dev` or createRuntime → NoRuntimeError
 */
export class NoRuntimeError extends BacError {
  readonly code = 'BAC_NO_RUNTIME'
  override readonly retryable = false

  constructor(what: string) {
    super(
      `${what} needs a running business, and none is bound here. ` +
        'Run the business with `bac dev` (or `bac start`), or in code and tests with ' +
        "`const rt = await createRuntime({ business })` from '@bac/runtime' and call it from a " +
        'handler, `rt.send(...)` or `rt.run(() => ...)`.',
    )
  }
}
export const isNoRuntimeError = (e: unknown): e is NoRuntimeError => hasCode(e, 'BAC_NO_RUNTIME')

/**
 * Throw it to fail a run at once, without retrying: the cause will not go away by trying
 * again (a declined card, an unknown customer). The run goes to the dead-letter queue.
 *
 * @example
 * if (!customer) throw new NonRetryableError(`no customer ${id}`)
 */
export class NonRetryableError extends BacError {
  readonly code: string = 'BAC_NON_RETRYABLE'
  override readonly retryable = false
}
export const isNonRetryableError = (e: unknown): e is NonRetryableError => hasCode(e, 'BAC_NON_RETRYABLE')

/**
 * Something ran past its time limit: a run's attempt, a step, a `withFallback` primary.
 * Retried like any failure.
 */
export class TimeoutError extends BacError {
  readonly code = 'BAC_TIMEOUT'

  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`)
  }
}

export const isTimeoutError = (e: unknown): e is TimeoutError => hasCode(e, 'BAC_TIMEOUT')

/**
 * A write lost a race it was told to check for: `ifVersion` met a newer version, or a
 * `db.transaction` kept conflicting with others (deadlocks, serialization failures) after its
 * retries — both retried like any failure, the next attempt reading again; or a `where`
 * condition with `orFail: true` did not hold — not retried, as the same document would fail it
 * again.
 *
 * @example
 * await db.update('Account', id, { balance: 90 }, { ifVersion: account.$version })
 * // ConflictError: update(Account): a1 is at version 4, not 3 — it was written since it was read; read it again
 */
export class ConflictError extends BacError {
  readonly code = 'BAC_CONFLICT'
  override readonly retryable: boolean
  /** The document's version when the write was refused, where there is one. */
  readonly currentVersion?: number

  constructor(message: string, options: { readonly currentVersion?: number; readonly retryable?: boolean } = {}) {
    super(message)
    this.retryable = options.retryable ?? true
    if (options.currentVersion !== undefined) this.currentVersion = options.currentVersion
  }
}
export const isConflictError = (e: unknown): e is ConflictError => hasCode(e, 'BAC_CONFLICT')

/**
 * A saga failed and its finished steps were undone: its run ends `compensated`, and a caller
 * awaiting it gets this error (code `BAC_SAGA_COMPENSATED`).
 */
export const isSagaCompensatedError = (e: unknown): boolean => hasCode(e, 'BAC_SAGA_COMPENSATED')
