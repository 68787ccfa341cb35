/**
 * Documents on the store's own database: one `bac_documents` table (JSON text on SQLite, jsonb
 * on PostgreSQL) keyed by (type, id), relations as edges, full-text search (SQLite FTS5,
 * PostgreSQL tsvector), and indexes on JSON expressions made on request. Writes go through the
 * store's transactions, so a document and the events it emits commit together — and, in a
 * run, with the step that records the write, so a crash can neither lose it nor let it apply
 * twice.
 *
 * @example
 * await store.documents.transaction((tx) => tx.insert({ type: 'Product', id, data, now }))
 */
import { createHash } from 'node:crypto'
import { ConflictError } from '@bac/sdk'
import { type Kysely, sql } from 'kysely'
import { decode, encode } from '../codec.ts'
import type { Field, Filter } from '../db/filter.ts'
import { KyselyDocumentReader } from './document-reader.ts'
import { KyselyDocumentTransaction, type Outbox } from './document-transaction.ts'
import { checkType, type Dialect, jsonSql } from './json-sql.ts'
import type { Database } from './schema.ts'
import type {
  DocumentStore,
  DocumentTransaction,
  DocumentTransactionOptions,
  Isolation,
  StepRecord,
  TransactionOutcome,
} from './store.ts'

/** What the store lends its document transactions. */
export interface DocumentHooks {
  readonly write: <T>(
    job: (tx: Kysely<Database>) => Promise<T>,
    options?: { readonly isolation?: Isolation; readonly alone?: boolean },
  ) => Promise<T>
  /** Store a transaction's outbox: the ids of the events stored (not duplicates), and whether they made work. */
  readonly insertEvents: (
    tx: Kysely<Database>,
    outbox: Outbox,
  ) => Promise<{ readonly stored: ReadonlySet<string>; readonly work: boolean }>
  /** Record a step in `tx` with its encoded result; `false` when it was recorded already. */
  readonly insertStep: (tx: Kysely<Database>, step: Omit<StepRecord, 'result'>, encoded: string) => Promise<boolean>
  readonly storedStep: (runId: string, key: string) => Promise<StepRecord | undefined>
}

/** How many times a transaction runs before its conflicts become a `ConflictError`. */
const ATTEMPTS = 8

/** Why PostgreSQL (or a SQLite writer in another process) rolled a transaction back, if it may pass. */
function conflictOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code
  if (code === '40P01')
    return 'a deadlock (transactions locking the same documents in different orders; lock them in one order, such as sorted by id)'
  if (code === '40001') return 'a serialization failure (concurrent transactions read and wrote the same documents)'
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') return 'another process holding the SQLite file'
  return undefined
}

const fieldName = (field: Field) => (field.kind === 'path' ? field.path.join('.') : `$${field.kind}`)

/** Thrown inside a step's transaction to roll it back: another execution recorded the step first. */
class StepAlreadyRecorded extends Error {}

export class KyselyDocuments extends KyselyDocumentReader implements DocumentStore {
  constructor(
    db: Kysely<Database>,
    dialect: Dialect,
    private readonly hooks: DocumentHooks,
  ) {
    super(db, jsonSql(dialect), dialect === 'postgres')
  }

  async transaction<T>(
    work: (tx: DocumentTransaction) => Promise<T>,
    options: DocumentTransactionOptions = {},
  ): Promise<TransactionOutcome<T>> {
    const { step, userCode = false } = options
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.hooks.write(
          async (tx) => {
            const documents = new KyselyDocumentTransaction(tx, this.json, this.pg, this.db, [], userCode && this.pg)
            const value = await work(documents)
            const { stored: published, work: made } = await this.hooks.insertEvents(tx, documents.outbox)
            if (!step) return { value, replayed: false, published, work: made }
            const encoded = encode(value)
            const { finishedAt, ...start } = step
            if (!(await this.hooks.insertStep(tx, { ...start, finishedAt: finishedAt() }, encoded)))
              throw new StepAlreadyRecorded()
            return { value: decode(encoded) as T, replayed: false, published, work: made }
          },
          { ...(options.isolation ? { isolation: options.isolation } : {}), alone: userCode },
        )
      } catch (error) {
        // Whatever rolled this one back, a step that another execution recorded is the answer.
        const recorded = step ? await this.hooks.storedStep(step.runId, step.key) : undefined
        if (recorded) return { value: recorded.result as T, replayed: true, published: new Set(), work: false }
        const conflict = conflictOf(error)
        if (!conflict) throw error
        if (attempt >= ATTEMPTS) {
          throw new ConflictError(`db: a transaction was rolled back ${ATTEMPTS} times by ${conflict}; giving up`)
        }
        // Apart, at random, so the transactions that collided do not collide again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt))
      }
    }
  }

  async createIndex(type: string, fields: readonly Field[], unique: boolean): Promise<string> {
    checkType(type)
    const names = fields.map(fieldName)
    const name = `bac_doc_${createHash('sha256')
      .update(JSON.stringify([type, names, unique]))
      .digest('hex')
      .slice(0, 20)}`
    const expressions = sql.join(fields.map((f) => this.json.field(f)))
    await this.hooks.write(async (tx) => {
      // Scoped to the type (a partial index), so uniqueness is per type and the index stays small.
      await sql`create ${sql.raw(unique ? 'unique index' : 'index')} if not exists ${sql.id(name)} on bac_documents (${expressions}) where ${this.json.typeIs(type)}`.execute(
        tx,
      )
      await tx
        .insertInto('bac_indexes')
        .values({ name, type, fields: JSON.stringify(names), is_unique: unique ? 1 : 0 })
        .onConflict((oc) => oc.doNothing())
        .execute()
    })
    return name
  }

  async explain(type: string, filter: Filter): Promise<string> {
    const query = sql`select id from bac_documents where ${this.json.typeIs(type)} and ${this.json.filter(filter)}`
    if (!this.pg) {
      const { rows } = await sql<{ detail: string }>`explain query plan ${query}`.execute(this.db)
      return rows.map((r) => r.detail).join('\n')
    }
    // With few rows PostgreSQL prefers a sequential scan; ask whether an index can serve the query.
    return this.db.transaction().execute(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx)
      const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(tx)
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    })
  }
}
