/**
 * Writes of documents inside one store transaction: rows locked before they are read for a
 * write (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already excludes every other
 * writer, in this process or another), versions counted, the full-text index kept in step,
 * and the events of the writes collected for the transaction's outbox.
 *
 * @example
 * const locked = await tx.lock('Stock', { id: 's1' }, parseFilter({ 'available:gte': 2 }))
 * if (locked?.matches) await tx.put('Stock', 's1', { ...locked.record.data, available: 0 }, now)
 */
import { type Kysely, sql } from 'kysely'
import type { Filter } from '../db/filter.ts'
import { UniqueViolationError } from '../errors.ts'
import { chunks, stampAndDrop } from './cache-sql.ts'
import { KyselyDocumentReader, toDocument } from './document-reader.ts'
import { checkType, type JsonSql } from './json-sql.ts'
import type { Database } from './schema.ts'
import type {
  DocumentRecord,
  DocumentTransaction,
  Edge,
  LockedDocument,
  NewDocument,
  NewEvent,
  NewRun,
} from './store.ts'

/** The class (first key) of the advisory locks of `lockKey`: 'bac' + 3. */
const KEY_LOCK_CLASS = 0x62_61_63_03

/** The words of a document, for full-text search: every string value in it. */
function textOf(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') out.push(value)
  else if (value && typeof value === 'object' && depth < 8)
    for (const v of Object.values(value)) textOf(v, out, depth + 1)
  return out
}

const searchText = (data: unknown) => textOf(data).join(' ').slice(0, 100_000)

export type Outbox = { event: NewEvent; runs: readonly NewRun[] }[]

export class KyselyDocumentTransaction extends KyselyDocumentReader implements DocumentTransaction {
  constructor(
    tx: Kysely<Database>,
    json: JsonSql,
    pg: boolean,
    /** The store's own connection: on PostgreSQL an aborted transaction cannot read any more. */
    private readonly outside: Kysely<Database>,
    readonly outbox: Outbox,
    /** Put each write in a savepoint, so that a failure the code catches leaves the transaction usable (PostgreSQL). */
    private readonly savepoints = false,
  ) {
    super(tx, json, pg)
  }

  async lock(
    type: string,
    target: { readonly id: string } | { readonly filter: Filter },
    check?: Filter,
  ): Promise<LockedDocument | undefined> {
    // The check is a column of the locking read: PostgreSQL re-evaluates it on the version it
    // locked when it had to wait for another writer, so it is never judged on a stale copy.
    let q = this.select()
      .select(sql<boolean>`(${check ? this.json.filter(check) : sql`1 = 1`})`.as('matches'))
      .where(this.json.typeIs(type))
    q = 'id' in target ? q.where('id', '=', target.id) : q.where(this.json.filter(target.filter)).limit(1)
    if (this.pg) q = q.forUpdate()
    const row = await q.executeTakeFirst()
    return row ? { record: toDocument(row), matches: row.matches === true || Number(row.matches) === 1 } : undefined
  }

  async lockKey(key: string): Promise<void> {
    if (this.pg) await sql`select pg_advisory_xact_lock(${KEY_LOCK_CLASS}, hashtext(${key}))`.execute(this.db)
  }

  async eventByKey(name: string, idempotencyKey: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('bac_events')
      .select('id')
      .where('name', '=', name)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst()
    return row?.id
  }

  async byIdempotencyKey(type: string, key: string): Promise<DocumentRecord | undefined> {
    const row = await this.select().where(this.json.typeIs(type)).where('idempotency_key', '=', key).executeTakeFirst()
    return row ? toDocument(row) : undefined
  }

  async insert(doc: NewDocument): Promise<DocumentRecord> {
    return (await this.guard(doc.type, [doc], () => this.insertRows([doc])))[0] as DocumentRecord
  }

  async insertMany(docs: readonly NewDocument[]): Promise<DocumentRecord[]> {
    const out: DocumentRecord[] = []
    for (const chunk of chunks(docs, 200)) {
      out.push(...(await this.guard(chunk[0]?.type ?? '', chunk, () => this.insertRows(chunk))))
    }
    return out
  }

  put(
    type: string,
    id: string,
    data: Readonly<Record<string, unknown>>,
    now: number,
    before?: Readonly<Record<string, unknown>>,
  ): Promise<DocumentRecord> {
    return this.guard(type, [{ data }], () => this.updateRow(type, id, data, now, before), false)
  }

  async remove(type: string, id: string): Promise<boolean> {
    const removed = await this.db
      .deleteFrom('bac_documents')
      .where(this.json.typeIs(type))
      .where('id', '=', id)
      .executeTakeFirst()
    if (!this.pg) await sql`delete from bac_documents_fts where type = ${type} and id = ${id}`.execute(this.db)
    await this.db
      .deleteFrom('bac_relations')
      .where((eb) =>
        eb.or([
          eb.and([eb('from_type', '=', type), eb('from_id', '=', id)]),
          eb.and([eb('to_type', '=', type), eb('to_id', '=', id)]),
        ]),
      )
      .execute()
    return Number(removed.numDeletedRows) > 0
  }

  async relate(edge: Edge, now: number): Promise<void> {
    await this.db
      .insertInto('bac_relations')
      .values({
        from_type: edge.fromType,
        from_id: edge.fromId,
        predicate: edge.predicate,
        to_type: edge.toType,
        to_id: edge.toId,
        created_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute()
  }

  async unrelate(edge: Edge): Promise<number> {
    const result = await this.db
      .deleteFrom('bac_relations')
      .where('from_type', '=', edge.fromType)
      .where('from_id', '=', edge.fromId)
      .where('predicate', '=', edge.predicate)
      .where('to_type', '=', edge.toType)
      .where('to_id', '=', edge.toId)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  publish(event: NewEvent, runs: readonly NewRun[]): void {
    this.outbox.push({ event, runs })
  }

  invalidateCache(types: readonly string[], tags: readonly string[], now: number): Promise<string[]> {
    return stampAndDrop(this.db, types, tags, now, this.pg)
  }

  private async insertRows(docs: readonly NewDocument[]): Promise<DocumentRecord[]> {
    if (docs.length === 0) return []
    const texts = docs.map((doc) => searchText(doc.data))
    await this.db
      .insertInto('bac_documents')
      .values(
        docs.map((doc, i) => ({
          type: checkType(doc.type),
          id: doc.id,
          data: this.json.data(doc.data) as string,
          idempotency_key: doc.idempotencyKey ?? null,
          version: 1,
          created_at: doc.now,
          updated_at: doc.now,
          ...(this.pg ? { search: sql`to_tsvector('english', ${texts[i]})` } : {}),
        })) as never,
      )
      .execute()
    if (!this.pg) {
      const values = sql.join(docs.map((doc, i) => sql`(${doc.type}, ${doc.id}, ${texts[i]})`))
      await sql`insert into bac_documents_fts (type, id, content) values ${values}`.execute(this.db)
    }
    // What was written is what is stored: no need to read it back.
    return docs.map((doc) => ({
      type: doc.type,
      id: doc.id,
      data: doc.data,
      version: 1,
      createdAt: doc.now,
      updatedAt: doc.now,
    }))
  }

  private async updateRow(
    type: string,
    id: string,
    data: Readonly<Record<string, unknown>>,
    now: number,
    before?: Readonly<Record<string, unknown>>,
  ): Promise<DocumentRecord> {
    const text = searchText(data)
    // A write that changes no text (a counter, a stock level) leaves the search index alone:
    // on SQLite its FTS5 row can only be found by a scan of the whole table.
    const reindex = before === undefined || searchText(before) !== text
    const row = await this.db
      .updateTable('bac_documents')
      .set((eb) => ({
        data: this.json.data(data) as string,
        updated_at: now,
        version: eb('version', '+', 1),
        ...(this.pg && reindex ? { search: sql`to_tsvector('english', ${text})` } : {}),
      }))
      .where(this.json.typeIs(type))
      .where('id', '=', id)
      .returning(['version', 'created_at'])
      .executeTakeFirst()
    if (!row) throw new TypeError(`db: there is no ${type} ${id} to update`)
    if (!this.pg && reindex) {
      await sql`delete from bac_documents_fts where type = ${type} and id = ${id}`.execute(this.db)
      await sql`insert into bac_documents_fts (type, id, content) values (${type}, ${id}, ${text})`.execute(this.db)
    }
    return { type, id, data, version: Number(row.version), createdAt: Number(row.created_at), updatedAt: now }
  }

  /** Run a write; turn a unique violation into an error that names the field and the value. */
  private async guard<T>(
    type: string,
    docs: readonly Pick<NewDocument, 'data'>[],
    write: () => Promise<T>,
    /** An insert, whose unique violation code may well catch and go past (an update's, hardly). */
    insert = true,
  ): Promise<T> {
    const savepoint = this.savepoints && insert
    if (savepoint) await sql`savepoint bac_write`.execute(this.db)
    try {
      const written = await write()
      if (savepoint) await sql`release savepoint bac_write`.execute(this.db)
      return written
    } catch (error) {
      if (savepoint) await sql`rollback to savepoint bac_write`.execute(this.db)
      const { code, constraint, message } = error as { code?: string; constraint?: string; message?: string }
      const unique = code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
      if (!unique) throw error
      const index = constraint ?? /index '([^']+)'/.exec(message ?? '')?.[1]
      // Without a savepoint PostgreSQL has aborted this transaction; the registry row is
      // committed, so read it outside.
      const reader = this.pg && !savepoint ? this.outside : this.db
      const known = index
        ? await reader.selectFrom('bac_indexes').select('fields').where('name', '=', index).executeTakeFirst()
        : undefined
      if (!known) throw new UniqueViolationError(`${type}: a document with this id already exists`, type, ['$id'])
      const fields = JSON.parse(known.fields) as string[]
      const values = await this.takenValues(
        reader,
        type,
        fields,
        docs.map((d) => d.data),
      )
      throw new UniqueViolationError(
        `${type}.${fields.join(' + ')} must be unique: ${values.join(' + ')} is already used by another ${type}`,
        type,
        fields,
      )
    }
  }

  /** The values of `fields` in the first candidate that an existing document already has. */
  private async takenValues(
    reader: Kysely<Database>,
    type: string,
    fields: readonly string[],
    candidates: readonly unknown[],
  ): Promise<string[]> {
    const at = (doc: unknown, f: string) =>
      f.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc)
    for (const candidate of candidates) {
      const filter: Filter = {
        op: 'and',
        filters: fields.map((f) => ({
          op: 'compare',
          field: { kind: 'path', path: f.split('.') },
          compare: '=',
          value: at(candidate, f) as never,
        })),
      }
      const taken = await reader
        .selectFrom('bac_documents')
        .select('id')
        .where(this.json.typeIs(type))
        .where(this.json.filter(filter))
        .executeTakeFirst()
      if (taken) return fields.map((f) => JSON.stringify(at(candidate, f)))
    }
    return fields.map((f) => JSON.stringify(at(candidates[0], f)))
  }
}
