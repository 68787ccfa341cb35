/**
 * One store transaction of `db` writes — a single `db.update`, or a whole `db.transaction` —
 * and what it owes the rest of the runtime: the ids it gives new documents and events (derived
 * from one base id, so a run's replay would give the same ones), the change events of its
 * writes and the events sent inside it (the transactional outbox), and the cached results it
 * makes stale. Events are announced in this process and caches forgotten only once it has
 * committed.
 *
 * @example
 * const session = new WriteSession(engine, catalog, scope, tx, base)
 * session.outbox(await tx.insert(doc), 'created')
 * await session.close() // in the transaction; session.announce() after the commit
 */
import type { SendOptions } from '@bac/sdk'
import type { Catalog } from '../catalog.ts'
import type { Engine } from '../engine.ts'
import { DbError } from '../errors.ts'
import { deterministicId } from '../ids.ts'
import type { DocumentRecord, DocumentTransaction, NewEvent } from '../store/store.ts'
import { traceOf } from '../telemetry/tracing.ts'
import { toDoc } from './doc.ts'
import type { DocumentDbScope } from './document-db.ts'

export type Change = 'created' | 'updated' | 'deleted'

const endedError = () =>
  new DbError('db: this transaction has ended; its tx cannot be used after db.transaction() returns')

export class WriteSession {
  private documents = 0
  private events = 0
  private readonly published: NewEvent[] = []
  private readonly types = new Set<string>()
  private readonly stale = new Set<string>()
  private dropped: string[] = []
  /** Set once the transaction has ended: its `tx` may not be used any more. */
  ended = false
  /** The operation last begun: the next one starts when it is over. */
  private last: Promise<unknown> = Promise.resolve()
  /** What the transaction's code was handed: each call's promise. */
  private readonly handed: Observed<unknown>[] = []

  constructor(
    private readonly engine: Engine,
    private readonly catalog: Catalog,
    private readonly scope: DocumentDbScope,
    readonly tx: DocumentTransaction,
    private readonly base: string,
  ) {}

  /**
   * Run one operation after the ones begun before it: each locks, reads and writes a document
   * before the next may, so `Promise.all` of updates to one document loses none of them.
   */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.last.then(() => {
      if (this.ended) throw endedError()
      return operation()
    })
    this.last = run.catch(() => {})
    return run
  }

  /**
   * The transaction's `db` as its code gets it: every call's promise is kept, so that what the
   * code began but did not await is waited for before the commit (`finish`).
   */
  handOut<T extends object>(db: T): T {
    const session = this
    return new Proxy(db, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (typeof value !== 'function') return value
        return function (this: unknown, ...args: unknown[]) {
          const result = Reflect.apply(value, receiver, args)
          if (!(result instanceof Promise)) return result
          const observed = Observed.of(result)
          session.handed.push(observed)
          return observed
        }
      },
    })
  }

  /**
   * Once the transaction's function has returned: wait for what it began and did not await —
   * it is part of the transaction — and resolve to the first failure no one awaited, if any
   * (it rolls the transaction back rather than being lost).
   */
  async finish(): Promise<{ readonly error: unknown } | undefined> {
    const outcomes = await Promise.allSettled(this.handed.map((handed) => handed.settled))
    const lost = outcomes.findIndex((o, i) => o.status === 'rejected' && !this.handed[i]?.observed)
    const failed = outcomes[lost]
    return failed?.status === 'rejected' ? { error: failed.reason } : undefined
  }

  /** The id of the next document this session creates: the base id, then ids derived from it. */
  nextId(): string {
    const n = this.documents++
    return n === 0 ? this.base : deterministicId(this.base, 'doc', n)
  }

  /** A document was written: emit its change event (unless its collection says not to) and stale its cache tags. */
  outbox(record: DocumentRecord, change: Change): void {
    this.types.add(record.type)
    this.stale.add(record.type).add(`${record.type}:${record.id}`)
    if (this.catalog.business.collections.find((c) => c.name === record.type)?.events === false) return
    const payload = change === 'deleted' ? { $id: record.id, $type: record.type } : toDoc(record)
    this.publish(`${record.type}.${change}`, payload, {}, true)
  }

  /**
   * Publish an event with this transaction; its id. An event with an idempotency key that is
   * stored or queued already is that event (a document's own `created` event, sent again).
   */
  publish(name: string, payload: unknown, options: SendOptions = {}, document = false): string {
    const trace = this.scope.trace ? this.scope.trace() : traceOf()
    const { event, runs } = this.engine.delivery(name, payload, options, {
      id: deterministicId(this.base, 'event', this.events++),
      ...(this.scope.sourceRunId ? { sourceRunId: this.scope.sourceRunId } : {}),
      ...(this.scope.correlationId ? { correlationId: this.scope.correlationId } : {}),
      ...(trace ? { trace } : {}),
      ...(document ? { document: true } : {}),
    })
    const key = event.idempotencyKey
    const queued =
      key === undefined ? undefined : this.published.find((e) => e.name === name && e.idempotencyKey === key)
    if (queued) return queued.id
    this.tx.publish(event, runs)
    this.published.push(event)
    return event.id
  }

  /** An event sent in the transaction: the one stored before under its idempotency key, if there is one. */
  async send(name: string, payload: unknown, options: SendOptions = {}): Promise<string> {
    const key = options.idempotencyKey
    if (typeof key === 'string' && key !== '') {
      // Senders of one key take turns, so the second finds the first's event.
      await this.tx.lockKey(`event:${name}:${key}`)
      const first = await this.tx.eventByKey(name, key)
      if (first) return first
    }
    return this.publish(name, payload, options)
  }

  /**
   * Last thing in the transaction: cached results tagged with a changed document
   * (`Product:p1`) or its type (`Product`) are dropped in it, so no crash can leave them behind.
   */
  async close(): Promise<void> {
    if (this.engine.cachesByTag && this.types.size > 0) {
      this.dropped = await this.tx.invalidateCache([...this.types], [...this.stale], this.engine.clock.now())
    }
  }

  /** After the commit: this process's caches and subscribers learn what it wrote — events it stored, not duplicates. */
  announce(stored: ReadonlySet<string>, work: boolean): void {
    this.engine.cache.forget(this.dropped)
    for (const event of this.published) if (stored.has(event.id)) this.engine.announce(event, work)
  }
}

/** A promise that knows whether anyone awaited it (called its `then`). */
class Observed<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise
  }

  observed = false
  /** The same outcome, for the session to wait on without counting as observing it. */
  settled!: Promise<T>

  static of<T>(promise: Promise<T>): Observed<T> {
    const observed = new Observed<T>((resolve, reject) => {
      promise.then(resolve, reject)
    })
    observed.settled = promise
    // Its failure is the session's to report (finish) when no one awaits it: not unhandled.
    Promise.prototype.then.call(observed, undefined, () => {})
    promise.catch(() => {})
    return observed
  }

  // biome-ignore lint/suspicious/noThenProperty: awaiting it is exactly what it watches for
  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.observed = true
    return super.then(onFulfilled, onRejected)
  }
}
