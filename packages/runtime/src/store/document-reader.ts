/**
 * Reads of documents on one connection: the store's pool, or an open transaction (whose reads
 * must go through its own connection — on SQLite the only one — and see its own writes).
 * Queries compile to SQL (`json-sql.ts`); `lock` adds `FOR UPDATE` on PostgreSQL, where
 * SQLite's write transaction already excludes every other writer.
 *
 * @example
 * const reader = new KyselyDocumentReader(db, jsonSql('sqlite'), false)
 * const lamp = await reader.get('Product', 'p1')
 */
import { type Kysely, type Selectable, sql } from 'kysely'
import type { Filter } from '../db/filter.ts'
import { checkType, type JsonSql } from './json-sql.ts'
import type { Database, DocumentsTable } from './schema.ts'
import type { DocumentQuery, DocumentReader, DocumentRecord, Edge, Grouping, SortedDocument } from './store.ts'

export const DOCUMENT_COLUMNS = ['type', 'id', 'data', 'version', 'created_at', 'updated_at'] as const

export function toDocument(
  row: Pick<Selectable<DocumentsTable>, 'type' | 'id' | 'data' | 'version' | 'created_at' | 'updated_at'>,
): DocumentRecord {
  return {
    type: row.type,
    id: row.id,
    data: typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}

export class KyselyDocumentReader implements DocumentReader {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly json: JsonSql,
    protected readonly pg: boolean,
  ) {}

  protected select() {
    return this.db.selectFrom('bac_documents').select(DOCUMENT_COLUMNS)
  }

  async get(type: string, id: string): Promise<DocumentRecord | undefined> {
    const row = await this.select().where(this.json.typeIs(type)).where('id', '=', id).executeTakeFirst()
    return row ? toDocument(row) : undefined
  }

  async byId(id: string): Promise<DocumentRecord[]> {
    return (await this.select().where('id', '=', id).execute()).map(toDocument)
  }

  async find(type: string, query: DocumentQuery): Promise<SortedDocument[]> {
    // Without a sort the database picks the order (and the best index for the filter).
    const sort = [...(query.sort ?? [])]
    const keys = sort.map((s, i) => sql`${this.json.field(s.field)}`.as(`s${i}`))
    let q = this.select().select(keys).where(this.json.typeIs(type)).where(this.json.filter(query.filter))
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
    if (query.lock && this.pg) q = q.forUpdate()
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
      const rows = await this.select()
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
      select d.type, d.id, d.data, d.version, d.created_at, d.updated_at
      from bac_documents_fts f join bac_documents d on d.type = f.type and d.id = f.id
      where bac_documents_fts match ${match} and f.type = ${checkType(type)}
      order by f.rank, d.id limit ${limit}`.execute(this.db)
    return rows.map(toDocument)
  }

  async related(
    from: Partial<Edge> & { readonly type: string; readonly id: string; readonly predicate: string },
    toType?: string,
  ): Promise<DocumentRecord[]> {
    const columns = DOCUMENT_COLUMNS.map((c) => `d.${c}` as const)
    const outgoing = this.db
      .selectFrom('bac_relations as r')
      .innerJoin('bac_documents as d', (join) => join.onRef('d.type', '=', 'r.to_type').onRef('d.id', '=', 'r.to_id'))
      .select(columns)
      .where('r.from_type', '=', from.type)
      .where('r.from_id', '=', from.id)
      .where('r.predicate', '=', from.predicate)
      .$if(toType !== undefined, (q) => q.where('r.to_type', '=', toType as string))
    const incoming = this.db
      .selectFrom('bac_relations as r')
      .innerJoin('bac_documents as d', (join) =>
        join.onRef('d.type', '=', 'r.from_type').onRef('d.id', '=', 'r.from_id'),
      )
      .select(columns)
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
}
