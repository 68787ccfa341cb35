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
import { deterministicId } from '../ids.ts'
import type { DocumentRecord, DocumentTransaction, NewEvent } from '../store/store.ts'
import { traceOf } from '../telemetry/tracing.ts'
import { toDoc } from './doc.ts'
import type { DocumentDbScope } from './document-db.ts'

export type Change = 'created' | 'updated' | 'deleted'

export class WriteSession {
  private documents = 0
  private events = 0
  private readonly published: NewEvent[] = []
  private readonly types = new Set<string>()
  private readonly stale = new Set<string>()
  private dropped: string[] = []
  /** Set once the transaction has ended: its `tx` may not be used any more. */
  ended = false

  constructor(
    private readonly engine: Engine,
    private readonly catalog: Catalog,
    private readonly scope: DocumentDbScope,
    readonly tx: DocumentTransaction,
    private readonly base: string,
  ) {}

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

  /** Publish an event with this transaction; resolves to its id. */
  publish(name: string, payload: unknown, options: SendOptions = {}, document = false): string {
    const trace = this.scope.trace ? this.scope.trace() : traceOf()
    const { event, runs } = this.engine.delivery(name, payload, options, {
      id: deterministicId(this.base, 'event', this.events++),
      ...(this.scope.sourceRunId ? { sourceRunId: this.scope.sourceRunId } : {}),
      ...(this.scope.correlationId ? { correlationId: this.scope.correlationId } : {}),
      ...(trace ? { trace } : {}),
      ...(document ? { document: true } : {}),
    })
    this.tx.publish(event, runs)
    this.published.push(event)
    return event.id
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

  /** After the commit: this process's caches and subscribers learn what it wrote. */
  announce(): void {
    this.engine.cache.forget(this.dropped)
    for (const event of this.published) this.engine.announce(event)
  }
}
