/**
 * `db`, as businesses use it: documents with `$id`, `$type` and timestamps; queries, pages,
 * counts and aggregates compiled to SQL; relations; full-text search; streams; batches; and
 * unique indexes. Every write and the `<Type>.created/updated/deleted` events it emits commit
 * in one transaction (a transactional outbox), so a handler sees every committed write and
 * never a rolled-back one.
 *
 * One instance serves one context. In a run, each write is a durable unit (`$db#n`) with an id
 * derived from the run, so a retried or resumed run does not write twice; collections a service
 * owns are reachable only from that service's own code.
 *
 * @example
 * const db = new DocumentDb(engine, engine.catalog, { write: (fn) => fn(newId()) })
 * await db.create('Product', { name: 'Lamp', price: 40 })
 */
import type { Collection, Db, Doc, Page, Query, QueryOptions, TypeRef } from '@bac/sdk'
import { isRef } from '@bac/sdk'
import { refPath, validate } from '@bac/sdk/internal'
import type { Catalog } from '../catalog.ts'
import type { Engine } from '../engine.ts'
import { DbError, DocumentNotFoundError } from '../errors.ts'
import { idempotencyKeyOf } from '../idempotency-key.ts'
import { deterministicId } from '../ids.ts'
import { checkType } from '../store/json-sql.ts'
import type { DocumentRecord, DocumentTransaction, Edge, NewEvent, NewRun, SortSpec } from '../store/store.ts'
import { traceOf } from '../telemetry/tracing.ts'
import { type Field, parseField, parseFilter, parseSort, splitQuery } from './filter.ts'
import { applyPatch } from './patch.ts'

export interface DocumentDbScope {
  /** The service whose code runs here; its own collections are reachable. */
  readonly service?: string
  /** Enforce collection ownership (in runs). */
  readonly owned?: boolean
  /** Do one write — durably, in a run — given an id to derive document and event ids from. */
  readonly write: <T>(work: (id: string) => Promise<T>) => Promise<T>
  readonly sourceRunId?: string
  readonly correlationId?: string
  /** The trace the events a write emits belong to (the writing run's). */
  readonly trace?: () => string | undefined
}

type Data = Readonly<Record<string, unknown>>
type Change = 'created' | 'updated' | 'deleted'

/** `db.Products` names the type `Product`; other names are used as they are. */
export function typeOfCollection(name: string): string {
  if (!/^[A-Z]/.test(name) || !/s$/.test(name) || /ss$/.test(name)) return name
  if (/ies$/.test(name)) return name.replace(/ies$/, 'y')
  if (/(sh|ch|x|z|ss)es$/.test(name) || /sses$/.test(name)) return name.replace(/es$/, '')
  return name.replace(/s$/, '')
}

/** A type as written: a reference, `'Product'`, or the seeds' `'$.Product'`. */
function typeName(type: TypeRef): string {
  return checkType(refPath(type as string))
}

/** The document as code sees it: its fields plus `$id`, `$type` and ISO timestamps. */
function toDoc<T>(record: DocumentRecord): Doc<T> {
  return {
    ...(record.data as T),
    $id: record.id,
    $type: record.type,
    $createdAt: new Date(record.createdAt).toISOString(),
    $updatedAt: new Date(record.updatedAt).toISOString(),
  }
}

/** Stored fields: everything but the `$` keys a document carries. */
function fieldsOf(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new DbError(`${what}: a document is an object of fields, got ${JSON.stringify(data) ?? typeof data}`)
  }
  return JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(data).filter(([key]) => !key.startsWith('$')))))
}

const PAGE = 50
const STREAM_BATCH = 500
/** Pages and streams need an order that new documents cannot disturb: creation, then id. */
const CREATION_ORDER: SortSpec = [{ field: { kind: 'createdAt' }, direction: 'asc' }]

const encodeCursor = (values: readonly unknown[], id: string) =>
  Buffer.from(JSON.stringify([values, id])).toString('base64url')
function decodeCursor(cursor: string): { values: unknown[]; id: string } {
  try {
    const [values, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown[], string]
    if (!Array.isArray(values) || typeof id !== 'string') throw new Error('shape')
    return { values, id }
  } catch {
    throw new DbError(`page(): cursor ${JSON.stringify(cursor)} is not one this db gave out`)
  }
}

export class DocumentDb implements Db {
  constructor(
    private readonly engine: Engine,
    private readonly catalog: Catalog,
    private readonly scope: DocumentDbScope,
  ) {}

  async create<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options: { readonly idempotencyKey?: string } = {},
  ): Promise<Doc<T>> {
    const name = this.open(type)
    return this.write(name, async (tx, base, outbox) => {
      const key = idempotencyKeyOf(options)
      if (key !== undefined) {
        const first = await tx.byIdempotencyKey(name, key)
        if (first) return toDoc<T>(first)
      }
      const id = typeof (data as { $id?: unknown }).$id === 'string' ? (data as { $id: string }).$id : base
      // A replayed create (its result lost to a crash) finds its document by its derived id.
      const again = id === base ? await tx.get(name, id) : undefined
      if (again) return toDoc<T>(again)
      const record = await tx.insert({
        type: name,
        id,
        data: this.checked(name, fieldsOf(data, `create(${name})`)),
        ...(key === undefined ? {} : { idempotencyKey: key }),
        now: this.engine.clock.now(),
      })
      await outbox(record, 'created')
      return toDoc<T>(record)
    })
  }

  async get<T = Record<string, unknown>>(
    type: TypeRef,
    id: string,
    options: { readonly include?: readonly string[] } = {},
  ): Promise<Doc<T> | null> {
    const name = this.open(type)
    const record = await this.engine.store.documents.get(name, id)
    if (!record) return null
    const doc = toDoc<T>(record)
    return options.include?.length
      ? ((await this.include(doc as Record<string, unknown>, options.include)) as Doc<T>)
      : doc
  }

  async update<T = Record<string, unknown>>(
    type: TypeRef,
    idOrQuery: string | Query,
    patch: Partial<T> & Readonly<Record<string, unknown>>,
  ): Promise<Doc<T>> {
    const name = this.open(type)
    return this.write(name, async (tx, _base, outbox) => {
      const current =
        typeof idOrQuery === 'string' ? await tx.get(name, idOrQuery) : await tx.findOne(name, parseFilter(idOrQuery))
      if (!current) throw new DocumentNotFoundError(`update(${name}): no document ${JSON.stringify(idOrQuery)}`)
      const data = this.checked(name, applyPatch(current.data, patch as Data, `update(${name})`))
      const record = await tx.put(name, current.id, data, this.engine.clock.now())
      await outbox(record, 'updated')
      return toDoc<T>(record)
    })
  }

  async upsert<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options: { readonly on?: readonly string[] } = {},
  ): Promise<Doc<T>> {
    const name = this.open(type)
    const fields = fieldsOf(data, `upsert(${name})`)
    const explicit = (data as { $id?: unknown }).$id
    return this.write(name, async (tx, base, outbox) => {
      const match = options.on?.length ? Object.fromEntries(options.on.map((f) => [f, fields[f] ?? null])) : undefined
      const current =
        typeof explicit === 'string'
          ? await tx.get(name, explicit)
          : match
            ? await tx.findOne(name, parseFilter(match))
            : undefined
      if (current) {
        const record = await tx.put(
          name,
          current.id,
          this.checked(name, { ...current.data, ...fields }),
          this.engine.clock.now(),
        )
        await outbox(record, 'updated')
        return toDoc<T>(record)
      }
      const record = await tx.insert({
        type: name,
        id: typeof explicit === 'string' ? explicit : base,
        data: this.checked(name, fields),
        now: this.engine.clock.now(),
      })
      await outbox(record, 'created')
      return toDoc<T>(record)
    })
  }

  async delete(type: TypeRef, id: string): Promise<boolean> {
    const name = this.open(type)
    return this.write(name, async (tx, _base, outbox) => {
      const current = await tx.get(name, id)
      if (!current || !(await tx.remove(name, id))) return false
      await outbox(current, 'deleted')
      return true
    })
  }

  async query<T = Record<string, unknown>>(
    type: TypeRef,
    query: Query = {},
    options: QueryOptions = {},
  ): Promise<Doc<T>[]> {
    const name = this.open(type)
    const parsed = splitQuery(query, options as Record<string, unknown>)
    const found = await this.engine.store.documents.find(name, { filter: parsed.filter, ...parsed.options })
    return found.map(({ doc }) => select(toDoc<T>(doc), parsed.options.select))
  }

  find<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Doc<T>[]> {
    return this.query<T>(type, query, options)
  }

  async findOne<T = Record<string, unknown>>(type: TypeRef, query: Query = {}): Promise<Doc<T> | null> {
    return (await this.query<T>(type, query, { limit: 1 }))[0] ?? null
  }

  list<T = Record<string, unknown>>(
    type: TypeRef,
    options: QueryOptions & { readonly where?: Query } = {},
  ): Promise<Doc<T>[]> {
    const { where, ...rest } = options
    return this.query<T>(type, { ...(where ?? {}) }, rest)
  }

  async page<T = Record<string, unknown>>(
    type: TypeRef,
    query: Query = {},
    options: QueryOptions = {},
  ): Promise<Page<Doc<T>>> {
    const name = this.open(type)
    const parsed = splitQuery(query, options as Record<string, unknown>)
    const limit = parsed.options.limit ?? PAGE
    const found = await this.engine.store.documents.find(name, {
      filter: parsed.filter,
      sort: parsed.options.sort.length > 0 ? parsed.options.sort : CREATION_ORDER,
      limit: limit + 1,
      ...(options.cursor ? { after: decodeCursor(options.cursor) } : {}),
    })
    const data = found.slice(0, limit)
    const last = data.at(-1)
    const hasMore = found.length > limit
    return {
      data: data.map(({ doc }) => select(toDoc<T>(doc), parsed.options.select)),
      hasMore,
      ...(hasMore && last ? { nextCursor: encodeCursor(last.sortValues, last.doc.id) } : {}),
    }
  }

  async count(type: TypeRef, query: Query = {}): Promise<number> {
    return this.engine.store.documents.count(this.open(type), splitQuery(query).filter)
  }

  async aggregate(
    type: TypeRef,
    pipeline: readonly Readonly<Record<string, unknown>>[],
  ): Promise<Record<string, unknown>[]> {
    const name = this.open(type)
    let match: Query = {}
    let rows: Record<string, unknown>[] | undefined
    for (const [index, stage] of pipeline.entries()) {
      const [operator, spec] = Object.entries(stage)[0] ?? []
      if (operator === '$match' && rows === undefined) match = { ...match, ...(spec as Query) }
      else if (operator === '$group' && rows === undefined) rows = await this.group(name, match, spec)
      else if (operator === '$sort' && rows) rows = sortRows(rows, parseSort(spec))
      else if (operator === '$limit' && rows) rows = rows.slice(0, Number(spec))
      else
        throw new DbError(
          `aggregate(${name}): stage ${index} (${operator}) is not supported here; use $match, then $group, then $sort/$limit`,
        )
    }
    return rows ?? (await this.group(name, match, { _id: null, count: { $count: {} } }))
  }

  private group(name: string, match: Query, spec: unknown): Promise<Record<string, unknown>[]> {
    const { _id, ...accumulators } = spec as Record<string, unknown>
    if (_id !== null && (typeof _id !== 'string' || !_id.startsWith('$'))) {
      throw new DbError(`aggregate(${name}): $group _id must be null or '$field', got ${JSON.stringify(_id)}`)
    }
    const fieldOf = (value: unknown, acc: string): Field | number => {
      if (typeof value === 'number') return value
      if (typeof value === 'string' && value.startsWith('$')) return parseField(value.slice(1))
      throw new DbError(`aggregate(${name}): ${acc} needs '$field' or a number, got ${JSON.stringify(value)}`)
    }
    const parsed = Object.fromEntries(
      Object.entries(accumulators).map(([out, accSpec]) => {
        const [op, operand] = Object.entries(accSpec as Record<string, unknown>)[0] ?? []
        if (op === '$count') return [out, { fn: 'count' as const }]
        if (op !== '$sum' && op !== '$avg' && op !== '$min' && op !== '$max') {
          throw new DbError(`aggregate(${name}): ${out} uses ${op}; use $sum, $avg, $min, $max or $count`)
        }
        return [out, { fn: op.slice(1) as 'sum' | 'avg' | 'min' | 'max', field: fieldOf(operand, out) }]
      }),
    )
    return this.engine.store.documents.aggregate(name, splitQuery(match).filter, {
      ...(typeof _id === 'string' ? { by: parseField(_id.slice(1)) } : {}),
      accumulators: parsed,
    })
  }

  async search<T = Record<string, unknown>>(
    type: TypeRef,
    options: { readonly query: string; readonly limit?: number },
  ): Promise<Doc<T>[]> {
    const name = this.open(type)
    const terms = [
      ...new Set(
        String(options.query ?? '')
          .toLowerCase()
          .match(/[\p{L}\p{N}]+/gu) ?? [],
      ),
    ].slice(0, 32)
    return (await this.engine.store.documents.search(name, terms, options.limit ?? 10)).map((r) => toDoc<T>(r))
  }

  async relate(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<void> {
    const edge = await this.edge(from, predicate, to)
    await this.write(edge.fromType, async (tx) => tx.relate(edge, this.engine.clock.now()))
  }

  async unrelate(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<void> {
    const edge = await this.edge(from, predicate, to)
    await this.write(edge.fromType, (tx) => tx.unrelate(edge))
  }

  async related<T = Record<string, unknown>>(
    from: string | Doc,
    predicate: TypeRef,
    type?: TypeRef,
  ): Promise<Doc<T>[]> {
    const end = await this.endpoint(from, 'related()')
    const records = await this.engine.store.documents.related(
      { ...end, predicate: refPath(predicate as string) },
      type === undefined ? undefined : typeName(type),
    )
    return records.map((r) => toDoc<T>(r))
  }

  async *stream<T = Record<string, unknown>>(type: TypeRef, query: Query = {}): AsyncIterable<Doc<T>> {
    const name = this.open(type)
    const { filter } = splitQuery(query)
    let after: { values: readonly unknown[]; id: string } | undefined
    for (;;) {
      const batch = await this.engine.store.documents.find(name, {
        filter,
        sort: CREATION_ORDER,
        limit: STREAM_BATCH,
        ...(after ? { after } : {}),
      })
      for (const { doc } of batch) yield toDoc<T>(doc)
      const last = batch.at(-1)
      if (!last || batch.length < STREAM_BATCH) return
      after = { values: last.sortValues, id: last.doc.id }
    }
  }

  async batchCreate<T = Record<string, unknown>>(type: TypeRef, items: readonly T[]): Promise<Doc<T>[]> {
    const name = this.open(type)
    return this.write(name, async (tx, base, outbox) => {
      const now = this.engine.clock.now()
      const docs = items.map((item, i) => {
        const explicit = (item as { $id?: unknown }).$id
        return {
          type: name,
          id: typeof explicit === 'string' ? explicit : deterministicId(base, 'item', i),
          data: this.checked(name, fieldsOf(item, `batchCreate(${name})[${i}]`)),
          now,
        }
      })
      // A replayed batch (its result lost to a crash) finds the documents it made.
      const existing = new Map(
        (
          await tx.getMany(
            name,
            docs.map((d) => d.id),
          )
        ).map((r) => [r.id, r]),
      )
      const created = await tx.insertMany(docs.filter((d) => !existing.has(d.id)))
      for (const record of created) await outbox(record, 'created')
      const byId = new Map([...existing, ...created.map((r) => [r.id, r] as const)])
      return docs.map((d) => toDoc<T>(byId.get(d.id) as DocumentRecord))
    })
  }

  async batchUpdate(type: TypeRef, updates: readonly { readonly id: string; readonly patch: Data }[]): Promise<number> {
    const name = this.open(type)
    return this.write(name, async (tx, _base, outbox) => {
      let n = 0
      for (const { id, patch } of updates) {
        const current = await tx.get(name, id)
        if (!current) throw new DocumentNotFoundError(`batchUpdate(${name}): no document ${JSON.stringify(id)}`)
        const record = await tx.put(
          name,
          id,
          this.checked(name, applyPatch(current.data, patch, `batchUpdate(${name})`)),
          this.engine.clock.now(),
        )
        await outbox(record, 'updated')
        n++
      }
      return n
    })
  }

  async deleteMany(type: TypeRef, query: Query): Promise<number> {
    const name = this.open(type)
    // A forgotten query must not mean "everything": deleting all takes an explicit `{}`.
    if (typeof query !== 'object' || query === null || Array.isArray(query)) {
      throw new DbError(
        `deleteMany(${name}): query must be an object of conditions ({} deletes every document), got ${JSON.stringify(query) ?? 'undefined'}`,
      )
    }
    const { filter } = splitQuery(query)
    return this.write(name, async (tx, _base, outbox) => {
      let n = 0
      for (const id of await tx.ids(name, filter)) {
        const current = await tx.get(name, id)
        if (current && (await tx.remove(name, id))) {
          await outbox(current, 'deleted')
          n++
        }
      }
      return n
    })
  }

  async createIndex(
    type: TypeRef,
    fields: readonly string[],
    options: { readonly unique?: boolean } = {},
  ): Promise<void> {
    if (!Array.isArray(fields) || fields.length === 0)
      throw new DbError('createIndex(): fields must be a non-empty list of field names')
    await this.engine.store.documents.createIndex(this.open(type), fields.map(parseField), options.unique === true)
  }

  collection<T = Record<string, unknown>>(name: string, _options: { readonly owner?: string } = {}): Collection<T> {
    const type = typeOfCollection(name)
    return {
      create: (data, options) => this.create<T>(type, data, options),
      get: (id, options) => this.get<T>(type, id, options),
      update: (idOrQuery, patch) => this.update<T>(type, idOrQuery, patch),
      upsert: (data, options) => this.upsert<T>(type, data as T, options),
      delete: (id) => this.delete(type, id),
      find: (query, options) => this.query<T>(type, query, options),
      findOne: (query) => this.findOne<T>(type, query),
      list: (options) => this.list<T>(type, options),
      count: (query) => this.count(type, query),
    }
  }

  /** The type, once this code may use it (a service's collection is its own). */
  private open(type: TypeRef): string {
    if (typeof type !== 'string' && !isRef(type))
      throw new DbError(`db: expected a type such as $.Product or 'Product', got ${JSON.stringify(type)}`)
    const name = typeName(type)
    if (!this.scope.owned) return name
    const owner = this.catalog.business.collections.find((c) => c.name === name && c.owner)?.owner
    if (owner && owner !== this.scope.service) {
      const service = this.catalog.business.services.find((s) => s.name === owner)
      const offers = service?.operations.filter((o) => !o.internal).map((o) => o.verb) ?? []
      throw new DbError(
        `collection "${name}" belongs to ${owner}; reach it through its operations${offers.length ? ` (${offers.join(', ')})` : ''}`,
      )
    }
    return name
  }

  /** Validate against the collection's schema, if it declared one. */
  private checked(name: string, data: Record<string, unknown>): Record<string, unknown> {
    const schema = this.catalog.business.collections.find((c) => c.name === name && c.schema)?.schema
    return schema ? (validate(schema, data, `${name} document`) as Record<string, unknown>) : data
  }

  /** One durable write: documents and the events they emit, in one transaction. */
  private async write<R>(
    name: string,
    work: (
      tx: DocumentTransaction,
      base: string,
      outbox: (record: DocumentRecord, change: Change) => Promise<void>,
    ) => Promise<R>,
  ): Promise<R> {
    const emits = this.catalog.business.collections.find((c) => c.name === name)?.events !== false
    return this.scope.write(async (base) => {
      const published: NewEvent[] = []
      // Cached results tagged with a changed document (`Product:p1`) or its type (`Product`) go
      // stale: dropped in the write's own transaction, so no crash can leave them behind.
      const types = new Set<string>()
      const stale = new Set<string>()
      let dropped: string[] = []
      const result = await this.engine.store.documents.transaction(async (tx) => {
        let n = 0
        const outbox = async (record: DocumentRecord, change: Change) => {
          types.add(record.type)
          stale.add(record.type).add(`${record.type}:${record.id}`)
          if (!emits) return
          const { event, runs } = this.change(record, change, deterministicId(base, 'event', n++))
          tx.publish(event, runs)
          published.push(event)
        }
        const value = await work(tx, base, outbox)
        if (this.engine.cachesByTag && types.size > 0) {
          dropped = await tx.invalidateCache([...types], [...stale], this.engine.clock.now())
        }
        return value
      })
      this.engine.cache.forget(dropped)
      for (const event of published) this.engine.announce(event)
      return result
    })
  }

  private change(record: DocumentRecord, change: Change, id: string): { event: NewEvent; runs: NewRun[] } {
    const payload = change === 'deleted' ? { $id: record.id, $type: record.type } : toDoc(record)
    const trace = this.scope.trace ? this.scope.trace() : traceOf()
    return this.engine.delivery(
      `${record.type}.${change}`,
      payload,
      {},
      {
        id,
        ...(this.scope.sourceRunId ? { sourceRunId: this.scope.sourceRunId } : {}),
        ...(this.scope.correlationId ? { correlationId: this.scope.correlationId } : {}),
        ...(trace ? { trace } : {}),
        document: true,
      },
    )
  }

  private async edge(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<Edge> {
    const [a, b] = await Promise.all([this.endpoint(from, 'relate()'), this.endpoint(to, 'relate()')])
    const name = refPath(predicate as string)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new DbError(`relate(): predicate must be a word such as $.belongsTo, got ${JSON.stringify(name)}`)
    return { fromType: a.type, fromId: a.id, predicate: name, toType: b.type, toId: b.id }
  }

  /** A relation's end: a document, or a bare id that names exactly one document. */
  private async endpoint(value: string | Doc, place: string): Promise<{ type: string; id: string }> {
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof value.$id === 'string' &&
      typeof value.$type === 'string'
    ) {
      return { type: typeName(value.$type), id: value.$id }
    }
    if (typeof value !== 'string')
      throw new DbError(`${place}: expected a document or its id, got ${JSON.stringify(value)}`)
    const found = await this.engine.store.documents.byId(value)
    if (found.length === 1 && found[0]) return { type: found[0].type, id: found[0].id }
    throw new DbError(
      found.length === 0
        ? `${place}: there is no document with id ${JSON.stringify(value)}`
        : `${place}: id ${JSON.stringify(value)} names ${found.length} documents (${found.map((d) => d.type).join(', ')}); pass the document`,
    )
  }

  /** Replace reference fields (`{ $id, $type }`, or lists of them) named in `include` with the documents. */
  private async include(doc: Record<string, unknown>, include: readonly string[]): Promise<Record<string, unknown>> {
    const out = { ...doc }
    const load = async (ref: unknown) => {
      const r = ref as { $id?: unknown; $type?: unknown } | null
      if (typeof r?.$id !== 'string' || typeof r.$type !== 'string') return ref
      const record = await this.engine.store.documents.get(typeName(r.$type), r.$id)
      return record ? toDoc(record) : ref
    }
    for (const field of include) {
      const value = out[field]
      out[field] = Array.isArray(value) ? await Promise.all(value.map(load)) : await load(value)
    }
    return out
  }
}

function select<T>(doc: Doc<T>, fields: readonly string[] | undefined): Doc<T> {
  if (!fields) return doc
  const record = doc as Record<string, unknown>
  return Object.fromEntries([...fields, '$id', '$type'].filter((f) => f in record).map((f) => [f, record[f]])) as Doc<T>
}

function sortRows(rows: Record<string, unknown>[], sort: SortSpec): Record<string, unknown>[] {
  const key = (row: Record<string, unknown>, field: Field) =>
    field.kind === 'path' ? field.path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], row) : undefined
  return [...rows].sort((a, b) => {
    for (const { field, direction } of sort) {
      const x = key(a, field) as number | string
      const y = key(b, field) as number | string
      if (x !== y) return (x < y ? -1 : 1) * (direction === 'asc' ? 1 : -1)
    }
    return 0
  })
}
