/**
 * The ambient context inside a `db.transaction` function. `db` (and every collection handle,
 * which resolves through it) is the transaction, and `send` of an event publishes it in the
 * same commit. What cannot be part of a transaction is refused with an error saying so, rather
 * than run beside it: a step, a call, a sleep or an AI call would outlive a rollback, and on
 * SQLite any write outside the transaction would wait for it forever.
 *
 * @example
 * await db.transaction(async () => {
 *   await stock.update(id, { $inc: { available: -1 } })   // the collection handle is in the transaction
 *   await send($.Stock.reserved, { id })                    // published when it commits, or never
 * })
 */

import { AsyncLocalStorage } from 'node:async_hooks'
import type {
  Ai,
  CacheControl,
  CallOptions,
  Context,
  Db,
  EventEnvelope,
  Logger,
  MetricDefinition,
  MetricRecorder,
  RunInfo,
  SendOptions,
} from '@bac/sdk'
import { bindContext, eventName } from '@bac/sdk/internal'
import type { Catalog } from '../catalog.ts'
import type { Engine } from '../engine.ts'
import { DbError } from '../errors.ts'
import type { WriteSession } from './write-session.ts'

/**
 * Marks the code of a `db.transaction` function — apart from the ambient context, which code
 * inside may bind again (`rt.run`, `rt.send`) without leaving the transaction's locks behind.
 */
const inside = new AsyncLocalStorage<true>()

/** Whether code runs inside a `db.transaction` function. */
export const insideTransaction = (): boolean => inside.getStore() === true

/** Run a transaction's function: `context` bound as the ambient one, and marked as inside. */
export function runInTransaction<T>(context: TransactionContext, work: () => T): T {
  return bindContext(context, () => inside.run(true, work))
}

/** The error for what a transaction cannot hold. */
export function notInTransaction(what: string): DbError {
  return new DbError(
    `${what} inside db.transaction(): a transaction holds its locks until it ends and cannot undo ${what}. ` +
      'Inside, use its tx (or db, which means it there); do the rest before or after the transaction',
  )
}

export class TransactionContext implements Context {
  constructor(
    /** The transaction's own `db`. */
    readonly db: Db,
    private readonly session: WriteSession,
    private readonly engine: Engine,
    private readonly catalog: Catalog,
    /** The context the transaction was started from. */
    private readonly outer: Context | undefined,
    private readonly service: string | undefined,
  ) {}

  get run(): RunInfo | undefined {
    return this.outer?.run
  }

  get signal(): AbortSignal | undefined {
    return this.outer?.signal
  }

  get log(): Logger {
    return this.outer?.log ?? this.engine.log
  }

  get cache(): CacheControl {
    throw notInTransaction('the result cache')
  }

  get ai(): Ai {
    throw notInTransaction('an AI call')
  }

  metric(definition: MetricDefinition): MetricRecorder {
    return this.engine.metrics.recorder(definition)
  }

  /** An event is published with the transaction; calling an operation cannot be. */
  async send(event: string, payload: unknown, options: SendOptions = {}): Promise<unknown> {
    const name = eventName(event, 'send()')
    if (this.catalog.operationForVerb(name, options.version, this.service)) {
      throw notInTransaction(`send(${name}), which calls an operation,`)
    }
    return this.session.send(name, payload, options)
  }

  call(service: string, operation: string, _input: unknown, _options?: CallOptions): Promise<unknown> {
    throw notInTransaction(`call(${service}.${operation})`)
  }

  execute(kind: string, name: string): Promise<unknown> {
    throw notInTransaction(`running ${kind} ${name}`)
  }

  step<T>(name: string): Promise<Awaited<T>> {
    throw notInTransaction(`step("${name}")`)
  }

  sleep(): Promise<void> {
    throw notInTransaction('sleep()')
  }

  sleepUntil(): Promise<void> {
    throw notInTransaction('sleepUntil()')
  }

  waitForEvent<T>(event: string): Promise<T | null> {
    throw notInTransaction(`waitForEvent('${event}')`)
  }

  subscribe(pattern: string): AsyncIterable<EventEnvelope> {
    throw notInTransaction(`subscribe('${pattern}')`)
  }
}
