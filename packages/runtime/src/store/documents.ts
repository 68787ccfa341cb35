/**
 * Documents on the store's own database: one `bac_documents` table (JSON text on SQLite, jsonb
 * on PostgreSQL) keyed by (type, id), relations as edges, full-text search (SQLite FTS5,
 * PostgreSQL tsvector), and indexes on JSON expressions made on request. Writes go through the
 * store's transactions, so a document and the events it emits commit together.
 *
 * @example
 * await store.documents.transaction((tx) => tx.insert({ type: 'Product', id, data, now }))
 */
import { createHash } from 'node:crypto'
import { type Kysely, type Selectable, sql } from 'kysely'
import type { Field, Filter } from '../db/filter.ts'
import { UniqueViolationError } from '../errors.ts'
import { stampAndDrop } from './cache-sql.ts'
import { checkType, type Dialect, jsonSql } from './json-sql.ts'
import type { Database, DocumentsTable } from './schema.ts'
import type {
  DocumentQuery,
  DocumentRecord,
  DocumentStore,
  DocumentTransaction,
  Edge,
  Grouping,
  NewDocument,
  NewEvent,
  NewRun,
  SortedDocument,
} from './store.ts'

type Write = <T>(job: (tx: Kysely<Database>) => Promise<T>) => Promise<T>
type InsertEvents = (
  tx: Kysely<Database>,
  deliveries: readonly { event: NewEvent; runs: readonly NewRun[] }[],
) => Promise<void>

function toDocument(
  row: Pick<Selectable<DocumentsTable>, 'type' | 'id' | 'data' | 'created_at' | 'updated_at'>,
): DocumentRecord {
  return {
    type: row.type,
    id: row.id,
    data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

/** The words of a document, for full-text search: every string value in it. */
function textOf(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') out.push(value)
  else if (value && typeof value === 'object' && depth < 8)
    for (const v of Object.values(value)) textOf(v, out, depth + 1)
  return out
}

const fieldName = (field: Field) => (field.kind === 'path' ? field.path.join('.') : `$${field.kind}`)

function* chunked<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

export class KyselyDocuments implements DocumentStore {
  private readonly json
  private readonly pg: boolean

  constructor(
    private readonly db: Kysely<Database>,
    dialect: Dialect,
    private readonly write: Write,
    private readonly insertEvents: InsertEvents,
  ) {
    this.json = jsonSql(dialect)
    this.pg = dialect === 'postgres'
  }

  transaction<T>(work: (tx: DocumentTransaction) => Promise<T>): Promise<T> {
    return this.write(async (tx) => {
      const outbox: { event: NewEvent; runs: readonly NewRun[] }[] = []
      const result = await work(this.operations(tx, outbox))
      await this.insertEvents(tx, outbox)
      return result
    })
  }

  private operations(
    tx: Kysely<Database>,
    outbox: { event: NewEvent; runs: readonly NewRun[] }[],
  ): DocumentTransaction {
    const select = () => tx.selectFrom('bac_documents').select(['type', 'id', 'data', 'created_at', 'updated_at'])
    return {
      get: async (type, id) => {
        const row = await select().where(this.json.typeIs(type)).where('id', '=', id).executeTakeFirst()
        return row ? toDocument(row) : undefined
      },
      findOne: async (type, filter) => {
        const row = await select()
          .where(this.json.typeIs(type))
          .where(this.json.filter(filter))
          .limit(1)
          .executeTakeFirst()
        return row ? toDocument(row) : undefined
      },
      byIdempotencyKey: async (type, key) => {
        const row = await select().where(this.json.typeIs(type)).where('idempotency_key', '=', key).executeTakeFirst()
        return row ? toDocument(row) : undefined
      },
      ids: async (type, filter) =>
        (
          await tx
            .selectFrom('bac_documents')
            .select('id')
            .where(this.json.typeIs(type))
            .where(this.json.filter(filter))
            .execute()
        ).map((r) => r.id),
      getMany: async (type, ids) => {
        if (ids.length === 0) return []
        const rows = await select().where(this.json.typeIs(type)).where('id', 'in', ids).execute()
        return rows.map(toDocument)
      },
      insert: async (doc) =>
        (await this.guard(tx, doc.type, doc.data, () => this.insertRows(tx, [doc])))[0] as DocumentRecord,
      insertMany: async (docs) => {
        const out: DocumentRecord[] = []
        for (const chunk of chunked(docs, 200)) {
          out.push(...(await this.guard(tx, chunk[0]?.type ?? '', chunk, () => this.insertRows(tx, chunk))))
        }
        return out
      },
      put: (type, id, data, now) => this.guard(tx, type, data, () => this.updateRow(tx, type, id, data, now)),
      remove: async (type, id) => {
        const removed = await tx
          .deleteFrom('bac_documents')
          .where(this.json.typeIs(type))
          .where('id', '=', id)
          .executeTakeFirst()
        if (!this.pg) await sql`delete from bac_documents_fts where type = ${type} and id = ${id}`.execute(tx)
        await tx
          .deleteFrom('bac_relations')
          .where((eb) =>
            eb.or([
              eb.and([eb('from_type', '=', type), eb('from_id', '=', id)]),
              eb.and([eb('to_type', '=', type), eb('to_id', '=', id)]),
            ]),
          )
          .execute()
        return Number(removed.numDeletedRows) > 0
      },
      relate: async (edge, now) => {
        await tx
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
      },
      unrelate: async (edge) => {
        const result = await tx
          .deleteFrom('bac_relations')
          .where('from_type', '=', edge.fromType)
          .where('from_id', '=', edge.fromId)
          .where('predicate', '=', edge.predicate)
          .where('to_type', '=', edge.toType)
          .where('to_id', '=', edge.toId)
          .executeTakeFirst()
        return Number(result.numDeletedRows)
      },
      publish: (event, runs) => {
        outbox.push({ event, runs })
      },
      invalidateCache: (types, tags, now) => stampAndDrop(tx, types, tags, now, this.pg),
    }
  }

  private async insertRows(tx: Kysely<Database>, docs: readonly NewDocument[]): Promise<DocumentRecord[]> {
    if (docs.length === 0) return []
    const texts = docs.map((doc) => textOf(doc.data).join(' ').slice(0, 100_000))
    await tx
      .insertInto('bac_documents')
      .values(
        docs.map((doc, i) => ({
          type: checkType(doc.type),
          id: doc.id,
          data: this.json.data(doc.data) as string,
          idempotency_key: doc.idempotencyKey ?? null,
          created_at: doc.now,
          updated_at: doc.now,
          ...(this.pg ? { search: sql`to_tsvector('english', ${texts[i]})` } : {}),
        })) as never,
      )
      .execute()
    if (!this.pg) {
      const values = sql.join(docs.map((doc, i) => sql`(${doc.type}, ${doc.id}, ${texts[i]})`))
      await sql`insert into bac_documents_fts (type, id, content) values ${values}`.execute(tx)
    }
    // What was written is what is stored: no need to read it back.
    return docs.map((doc) => ({ type: doc.type, id: doc.id, data: doc.data, createdAt: doc.now, updatedAt: doc.now }))
  }

  private async updateRow(
    tx: Kysely<Database>,
    type: string,
    id: string,
    data: Readonly<Record<string, unknown>>,
    now: number,
  ): Promise<DocumentRecord> {
    const text = textOf(data).join(' ').slice(0, 100_000)
    const row = await tx
      .updateTable('bac_documents')
      .set({
        data: this.json.data(data) as string,
        updated_at: now,
        ...(this.pg ? { search: sql`to_tsvector('english', ${text})` } : {}),
      } as never)
      .where(this.json.typeIs(type))
      .where('id', '=', id)
      .returning(['type', 'id', 'data', 'created_at', 'updated_at'])
      .executeTakeFirst()
    if (!row) throw new TypeError(`db: there is no ${type} ${id} to update`)
    if (!this.pg) {
      await sql`delete from bac_documents_fts where type = ${type} and id = ${id}`.execute(tx)
      await sql`insert into bac_documents_fts (type, id, content) values (${type}, ${id}, ${text})`.execute(tx)
    }
    return toDocument(row)
  }

  /** Run a write; turn a unique violation into an error that names the field and the value. */
  private async guard<T>(
    tx: Kysely<Database>,
    type: string,
    data: Readonly<Record<string, unknown>> | readonly NewDocument[],
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await write()
    } catch (error) {
      const { code, constraint, message } = error as { code?: string; constraint?: string; message?: string }
      const unique = code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
      if (!unique) throw error
      const index = constraint ?? /index '([^']+)'/.exec(message ?? '')?.[1]
      // PostgreSQL has aborted this transaction; the registry row is committed, so read it outside.
      const reader = this.pg ? this.db : tx
      const known = index
        ? await reader.selectFrom('bac_indexes').select('fields').where('name', '=', index).executeTakeFirst()
        : undefined
      if (!known) throw new UniqueViolationError(`${type}: a document with this id already exists`, type, ['$id'])
      const fields = JSON.parse(known.fields) as string[]
      const at = (doc: unknown, f: string) =>
        f.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc)
      // For a batch, name the value that is taken: the first document whose value exists already.
      const candidates = Array.isArray(data) ? (data as readonly NewDocument[]).map((d) => d.data) : [data]
      const values = await this.takenValues(reader, type, fields, candidates, at)
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
    at: (doc: unknown, field: string) => unknown,
  ): Promise<string[]> {
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

  async get(type: string, id: string): Promise<DocumentRecord | undefined> {
    const row = await this.db
      .selectFrom('bac_documents')
      .select(['type', 'id', 'data', 'created_at', 'updated_at'])
      .where(this.json.typeIs(type))
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? toDocument(row) : undefined
  }

  async byId(id: string): Promise<DocumentRecord[]> {
    const rows = await this.db
      .selectFrom('bac_documents')
      .select(['type', 'id', 'data', 'created_at', 'updated_at'])
      .where('id', '=', id)
      .execute()
    return rows.map(toDocument)
  }

  async find(type: string, query: DocumentQuery): Promise<SortedDocument[]> {
    // Without a sort the database picks the order (and the best index for the filter).
    const sort = [...(query.sort ?? [])]
    const keys = sort.map((s, i) => sql`${this.json.field(s.field)}`.as(`s${i}`))
    let q = this.db
      .selectFrom('bac_documents')
      .select(['type', 'id', 'data', 'created_at', 'updated_at'])
      .select(keys)
      .where(this.json.typeIs(type))
      .where(this.json.filter(query.filter))
    if (query.after) {
      const direction = sort[0]?.direction ?? 'asc'
      if (sort.some((s) => s.direction !== direction)) {
        throw new TypeError('db: cursor pagination needs every sort field in one direction')
      }
      const left = sql.join([...sort.map((s) => this.json.field(s.field)), sql.ref('id')])
      const right = sql.join([
        ...sort.map((s, i) =>
          s.field.kind === 'path' && this.pg
            ? sql`${JSON.stringify(query.after?.values[i])}::jsonb`
            : sql`${query.after?.values[i]}`,
        ),
        sql`${query.after.id}`,
      ])
      q = q.where(sql<boolean>`(${left}) ${sql.raw(direction === 'asc' ? '>' : '<')} (${right})`)
    }
    for (const s of sort) q = q.orderBy(this.json.field(s.field), s.direction)
    if (sort.length > 0) q = q.orderBy('id', sort[0]?.direction ?? 'asc')
    if (query.limit !== undefined) q = q.limit(query.limit)
    if (query.skip)
      q = q.offset(query.skip).$if(query.limit === undefined, (b) => b.limit(this.pg ? Number.MAX_SAFE_INTEGER : -1))
    const rows = (await q.execute()) as (Selectable<DocumentsTable> & Record<string, unknown>)[]
    return rows.map((row) => ({ doc: toDocument(row), sortValues: sort.map((_, i) => row[`s${i}`]) }))
  }

  async count(type: string, filter: Filter): Promise<number> {
    const row = await this.db
      .selectFrom('bac_documents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(this.json.typeIs(type))
      .where(this.json.filter(filter))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async aggregate(type: string, filter: Filter, grouping: Grouping): Promise<Record<string, unknown>[]> {
    const selections = Object.entries(grouping.accumulators).map(([name, acc]) => {
      if (acc.fn === 'count') return sql`count(*)`.as(name)
      const operand = typeof acc.field === 'number' ? sql.lit(acc.field) : this.json.number(acc.field)
      return sql`${sql.raw(acc.fn)}(${operand})`.as(name)
    })
    let q = this.db
      .selectFrom('bac_documents')
      .select(selections)
      .where(this.json.typeIs(type))
      .where(this.json.filter(filter))
    if (grouping.by) {
      const by = this.json.field(grouping.by)
      q = q.select(sql`${by}`.as('_id')).groupBy(by)
    }
    const rows = (await q.execute()) as Record<string, unknown>[]
    return rows.map((row) => {
      const out: Record<string, unknown> = { _id: row._id ?? null }
      for (const name of Object.keys(grouping.accumulators)) {
        const value = row[name]
        // PostgreSQL returns numeric results as strings.
        out[name] = value === null || value === undefined ? null : Number(value)
      }
      return out
    })
  }

  async search(type: string, terms: readonly string[], limit: number): Promise<DocumentRecord[]> {
    if (terms.length === 0) return []
    if (this.pg) {
      const query = terms.join(' | ')
      const rows = await this.db
        .selectFrom('bac_documents')
        .select(['type', 'id', 'data', 'created_at', 'updated_at'])
        .where(this.json.typeIs(type))
        .where(sql<boolean>`search @@ to_tsquery('english', ${query})`)
        .orderBy(sql`ts_rank(search, to_tsquery('english', ${query}))`, 'desc')
        .orderBy('id')
        .limit(limit)
        .execute()
      return rows.map(toDocument)
    }
    const match = terms.map((t) => `"${t}"`).join(' OR ')
    const { rows } = await sql<Selectable<DocumentsTable>>`
      select d.type, d.id, d.data, d.created_at, d.updated_at
      from bac_documents_fts f join bac_documents d on d.type = f.type and d.id = f.id
      where bac_documents_fts match ${match} and f.type = ${checkType(type)}
      order by f.rank, d.id limit ${limit}`.execute(this.db)
    return rows.map(toDocument)
  }

  async related(
    from: { readonly type: string; readonly id: string; readonly predicate: string },
    toType?: string,
  ): Promise<DocumentRecord[]> {
    const outgoing = this.db
      .selectFrom('bac_relations as r')
      .innerJoin('bac_documents as d', (join) => join.onRef('d.type', '=', 'r.to_type').onRef('d.id', '=', 'r.to_id'))
      .select(['d.type', 'd.id', 'd.data', 'd.created_at', 'd.updated_at'])
      .where('r.from_type', '=', from.type)
      .where('r.from_id', '=', from.id)
      .where('r.predicate', '=', from.predicate)
      .$if(toType !== undefined, (q) => q.where('r.to_type', '=', toType as string))
    const incoming = this.db
      .selectFrom('bac_relations as r')
      .innerJoin('bac_documents as d', (join) =>
        join.onRef('d.type', '=', 'r.from_type').onRef('d.id', '=', 'r.from_id'),
      )
      .select(['d.type', 'd.id', 'd.data', 'd.created_at', 'd.updated_at'])
      .where('r.to_type', '=', from.type)
      .where('r.to_id', '=', from.id)
      .where('r.predicate', '=', from.predicate)
      .$if(toType !== undefined, (q) => q.where('r.from_type', '=', toType as string))
    const rows = [
      ...(await outgoing.orderBy('r.created_at').execute()),
      ...(await incoming.orderBy('r.created_at').execute()),
    ]
    const seen = new Set<string>()
    return rows.map(toDocument).filter((doc) => {
      const key = `${doc.type}\u0000${doc.id}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
  }

  async createIndex(type: string, fields: readonly Field[], unique: boolean): Promise<string> {
    checkType(type)
    const names = fields.map(fieldName)
    const name = `bac_doc_${createHash('sha256')
      .update(JSON.stringify([type, names, unique]))
      .digest('hex')
      .slice(0, 20)}`
    const expressions = sql.join(fields.map((f) => this.json.field(f)))
    await this.write(async (tx) => {
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

export type { Edge }
