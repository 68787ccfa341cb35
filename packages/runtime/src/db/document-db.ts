/**
 * `db`, as businesses use it: documents with `$id`, `$type`, `$version` and timestamps;
 * queries, pages, counts and aggregates compiled to SQL; relations; full-text search; streams;
 * batches; unique indexes; and transactions.
 *
 * Writes are safe under any number of workers: each locks the documents it changes before it
 * reads them (on PostgreSQL `FOR UPDATE`; SQLite has one writer at a time), so update operators
 * apply to the current document and never lose a concurrent update; `where` and `ifVersion`
 * are checked under that lock. Every write and the `<Type>.created/updated/deleted` events it
 * emits commit in one transaction (a transactional outbox), so a handler sees every committed
 * write and never a rolled-back one.
 *
 * One instance serves one context. In a run, each write (or `db.transaction`) is a durable step
 * (`$db#n`) that commits with its record, so a crash can neither lose it nor apply it twice,
 * and a replay returns its result; collections a service owns are reachable only from that
 * service's own code. Inside `db.transaction`, an instance bound to the transaction's session
 * does every read and write on the transaction's connection.
 *
 * @example
 * const db = new DocumentDb(engine, engine.catalog, { write: (_what, fn) => fn(newId()) })
 * await db.create('Product', { name: 'Lamp', price: 40 })
 */
import type {
  Collection,
  ConditionalWrite,
  Db,
  Doc,
  Page,
  Patch,
  Query,
  QueryOptions,
  Transaction,
  TransactionOptions,
  TypeRef,
  WriteOptions,
} from '@bac/sdk'
import { ConflictError, isRef } from '@bac/sdk'
import { currentContext, refPath, unknownKeys, validate } from '@bac/sdk/internal'
import type { Catalog } from '../catalog.ts'
import { digest } from '../digest.ts'
import type { Engine } from '../engine.ts'
import { DbError, DocumentNotFoundError } from '../errors.ts'
import { idempotencyKeyOf } from '../idempotency-key.ts'
import { checkType } from '../store/json-sql.ts'
import type { DocumentReader, Edge, Isolation, LockedDocument, SortSpec } from '../store/store.ts'
import { fieldsOf, toDoc } from './doc.ts'
import { type Field, type Filter, parseField, parseFilter, parseSort, splitQuery } from './filter.ts'
import { applyPatch, type PatchOperation, parsePatch } from './patch.ts'
import { insideTransaction, notInTransaction, runInTransaction, TransactionContext } from './transaction-context.ts'
import { WriteSession } from './write-session.ts'

/** Where a durable write starts, in a run: recorded with the write under `key`. */
export interface StepStart {
  readonly runId: string
  readonly key: string
  readonly startedAt: number
}

export interface DocumentDbScope {
  /** The service whose code runs here; its own collections are reachable. */
  readonly service?: string
  /** Enforce collection ownership (in runs). */
  readonly owned?: boolean
  /**
   * Do one write — `what` it is (`update:Stock:…`, see `keyOf`) — where `work` gets an id to
   * derive document and event ids from and, in a run, the durable step it records in its own
   * transaction (a replay returns the recorded result).
   */
  readonly write: <T>(what: string, work: (id: string, step?: StepStart) => Promise<T>) => Promise<T>
  readonly sourceRunId?: string
  readonly correlationId?: string
  /** The trace the events a write emits belong to (the writing run's). */
  readonly trace?: () => string | undefined
}

type Data = Readonly<Record<string, unknown>>

/** The conditions of a write, checked. */
interface Conditions {
  readonly where?: Filter
  readonly query?: Query
  readonly ifVersion?: number
  readonly orFail: boolean
}

const WRITE_OPTIONS = ['where', 'ifVersion', 'orFail']
const ISOLATIONS: readonly Isolation[] = ['read committed', 'repeatable read', 'serializable']

/**
 * What a write is, for its durable key in a run: the operation and type, then a digest of its
 * target (an id, a query) and of the fields it changes — never of the values it writes, which
 * code often computes from a read that a replay may answer differently.
 */
function keyOf(op: string, type: string, target?: unknown, operations?: readonly PatchOperation[]): string {
  const fields = operations?.map((o) => (o.op === 'field' ? o.field : `${o.op} ${o.field}`))
  return target === undefined && fields === undefined ? `${op}:${type}` : `${op}:${type}:${digest([target, fields])}`
}

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

const show = (value: unknown): string => JSON.stringify(value) ?? String(value)

/** Options, checked: an object (or nothing) of known keys. */
function optionsOf<T extends object>(options: unknown, known: readonly string[], place: string): Partial<T> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DbError(`${place}: options must be an object, got ${show(options)}`)
  }
  const unknown = unknownKeys(options, known, place)
  if (unknown) throw new DbError(unknown)
  return options as Partial<T>
}

/** `where`, `ifVersion` and `orFail`, checked before anything is read. */
function conditionsOf(options: unknown, place: string): Conditions {
  const { where, ifVersion, orFail } = optionsOf<WriteOptions>(options, WRITE_OPTIONS, place)
  if (ifVersion !== undefined && !(Number.isInteger(ifVersion) && ifVersion >= 0)) {
    throw new DbError(
      `${place}: ifVersion must be a whole number of 0 or more (a document's $version), got ${show(ifVersion)}`,
    )
  }
  if (orFail !== undefined && typeof orFail !== 'boolean') {
    throw new DbError(`${place}: orFail must be true or false, got ${show(orFail)}`)
  }
  if (where !== undefined && (typeof where !== 'object' || where === null || Array.isArray(where))) {
    throw new DbError(`${place}: where must be a query object such as { 'stock:gte': 1 }, got ${show(where)}`)
  }
  return {
    ...(where === undefined ? {} : { where: parseFilter(where), query: where }),
    ...(ifVersion === undefined ? {} : { ifVersion }),
    orFail: orFail === true,
  }
}

/** The document a write is aimed at: an id, or the first matching a query. */
function targetOf(idOrQuery: unknown, place: string): { id: string } | { filter: Filter } {
  if (typeof idOrQuery === 'string' && idOrQuery !== '') return { id: idOrQuery }
  if (typeof idOrQuery === 'object' && idOrQuery !== null && !Array.isArray(idOrQuery))
    return { filter: parseFilter(idOrQuery as Query) }
  throw new DbError(`${place}: expected a document id or a query object, got ${show(idOrQuery)}`)
}

/** Keys that shape a query's results rather than select documents. */
const SHAPING = ['$sort', '$limit', '$skip', '$select', 'orderBy']

/**
 * `query` of a write to many: conditions only — a forgotten one must not mean "everything",
 * nor may `$limit` or `$sort`, which would silently be dropped and leave "everything".
 */
function manyQuery(query: unknown, place: string, all: string): Filter {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw new DbError(`${place}: query must be an object of conditions ({} ${all}), got ${show(query) ?? 'undefined'}`)
  }
  // Beside `where` (the seeds' form), any other key would be dropped too.
  const conditions = 'where' in query ? ['where'] : []
  const shaping = Object.keys(query).filter(
    (key) => SHAPING.includes(key) || (conditions.length > 0 && key !== 'where'),
  )
  if (shaping.length > 0) {
    throw new DbError(
      `${place}: ${shaping.join(', ')} cannot narrow a write to many, which takes conditions only; find the documents first, then write them by id`,
    )
  }
  return splitQuery(query as Query).filter
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
    /** Set inside `db.transaction`: everything goes through its transaction. */
    private readonly session?: WriteSession,
  ) {}

  /** Reads go to the store, or in a transaction through its connection. */
  private get reader(): DocumentReader {
    return this.session?.tx ?? this.engine.store.documents
  }

  async create<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options?: { readonly idempotencyKey?: string },
  ): Promise<Doc<T>> {
    const name = this.open(type)
    const key = idempotencyKeyOf(optionsOf(options, ['idempotencyKey'], `create(${name})`))
    const fields = this.checked(name, fieldsOf(data, `create(${name})`))
    const explicit = (data as { $id?: unknown }).$id
    return this.write(keyOf('create', name, explicit), async (session) => {
      if (key !== undefined) {
        // Creators with one key take turns, so the second finds the first's document.
        await session.tx.lockKey(`${name}:key:${key}`)
        const first = await session.tx.byIdempotencyKey(name, key)
        if (first) return toDoc<T>(first)
      }
      const record = await session.tx.insert({
        type: name,
        id: typeof explicit === 'string' ? explicit : session.nextId(),
        data: fields,
        ...(key === undefined ? {} : { idempotencyKey: key }),
        now: this.engine.clock.now(),
      })
      session.outbox(record, 'created')
      return toDoc<T>(record)
    })
  }

  async get<T = Record<string, unknown>>(
    type: TypeRef,
    id: string,
    options?: Pick<QueryOptions, 'include' | 'forUpdate'>,
  ): Promise<Doc<T> | null> {
    const name = this.open(type)
    const { include, forUpdate } = optionsOf<QueryOptions>(options, ['include', 'forUpdate'], `get(${name})`)
    const record = this.locking(forUpdate, `get(${name})`)
      ? (await this.session?.tx.lock(name, { id }))?.record
      : await this.reader.get(name, id)
    if (!record) return null
    const doc = toDoc<T>(record)
    return include?.length ? ((await this.include(doc as Record<string, unknown>, include)) as Doc<T>) : doc
  }

  update<T = Record<string, unknown>>(
    type: TypeRef,
    idOrQuery: string | Query,
    patch: Patch<T>,
    options: ConditionalWrite,
  ): Promise<Doc<T> | null>
  update<T = Record<string, unknown>>(
    type: TypeRef,
    idOrQuery: string | Query,
    patch: Patch<T>,
    options?: WriteOptions,
  ): Promise<Doc<T>>
  async update<T = Record<string, unknown>>(
    type: TypeRef,
    idOrQuery: string | Query,
    patch: Patch<T>,
    options?: WriteOptions,
  ): Promise<Doc<T> | null> {
    const name = this.open(type)
    const place = `update(${name})`
    const operations = parsePatch(patch, place)
    const conditions = conditionsOf(options, place)
    const target = targetOf(idOrQuery, place)
    return this.write(keyOf('update', name, idOrQuery, operations), async (session) => {
      const locked = await session.tx.lock(name, target, conditions.where)
      if (!locked) throw new DocumentNotFoundError(`${place}: no document ${show(idOrQuery)}`)
      if (!this.holds(locked, conditions, place)) return null
      const record = await session.tx.put(
        name,
        locked.record.id,
        this.checked(name, applyPatch(locked.record.data, operations, place)),
        this.engine.clock.now(),
        locked.record.data,
      )
      session.outbox(record, 'updated')
      return toDoc<T>(record)
    })
  }

  async updateMany<T = Record<string, unknown>>(type: TypeRef, query: Query, patch: Patch<T>): Promise<number> {
    const name = this.open(type)
    const place = `updateMany(${name})`
    const filter = manyQuery(query, place, 'updates every document')
    const operations = parsePatch(patch, place)
    return this.write(keyOf('updateMany', name, query, operations), async (session) => {
      const found = await session.tx.find(name, { filter, lock: true })
      for (const { doc } of found) {
        const data = this.checked(name, applyPatch(doc.data, operations, place))
        session.outbox(await session.tx.put(name, doc.id, data, this.engine.clock.now(), doc.data), 'updated')
      }
      return found.length
    })
  }

  async upsert<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options?: { readonly on?: readonly string[] },
  ): Promise<Doc<T>> {
    const name = this.open(type)
    const place = `upsert(${name})`
    const { on } = optionsOf<{ on: readonly string[] }>(options, ['on'], place)
    if (on !== undefined && !(Array.isArray(on) && on.every((f) => typeof f === 'string'))) {
      throw new DbError(`${place}: on must be a list of field names, such as ['sku'], got ${show(on)}`)
    }
    const fields = fieldsOf(data, place)
    const explicit = (data as { $id?: unknown }).$id
    // In one order, so that on: ['a', 'b'] and on: ['b', 'a'] take the same lock below.
    const match = on?.length ? Object.fromEntries([...on].sort().map((f) => [f, fields[f] ?? null])) : undefined
    const target = typeof explicit === 'string' ? { id: explicit } : match ? { filter: parseFilter(match) } : undefined
    return this.write(keyOf('upsert', name, explicit ?? match), async (session) => {
      // Upserts of one document take turns: the second updates what the first created.
      if (target) await session.tx.lockKey(`${name}:upsert:${show(explicit ?? match)}`)
      const current = target ? (await session.tx.lock(name, target))?.record : undefined
      const now = this.engine.clock.now()
      if (current) {
        const record = await session.tx.put(
          name,
          current.id,
          this.checked(name, { ...current.data, ...fields }),
          now,
          current.data,
        )
        session.outbox(record, 'updated')
        return toDoc<T>(record)
      }
      const record = await session.tx.insert({
        type: name,
        id: typeof explicit === 'string' ? explicit : session.nextId(),
        data: this.checked(name, fields),
        now,
      })
      session.outbox(record, 'created')
      return toDoc<T>(record)
    })
  }

  async delete(type: TypeRef, id: string, options?: WriteOptions): Promise<boolean> {
    const name = this.open(type)
    const place = `delete(${name})`
    const conditions = conditionsOf(options, place)
    return this.write(keyOf('delete', name, id), async (session) => {
      const locked = await session.tx.lock(name, targetOf(id, place), conditions.where)
      if (!locked || !this.holds(locked, conditions, place) || !(await session.tx.remove(name, locked.record.id)))
        return false
      session.outbox(locked.record, 'deleted')
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
    const lock = this.locking(options.forUpdate, `find(${name})`)
    const found = await this.reader.find(name, { filter: parsed.filter, ...parsed.options, lock })
    return found.map(({ doc }) => select(toDoc<T>(doc), parsed.options.select))
  }

  find<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Doc<T>[]> {
    return this.query<T>(type, query, options)
  }

  async findOne<T = Record<string, unknown>>(
    type: TypeRef,
    query: Query = {},
    options: Pick<QueryOptions, 'forUpdate'> = {},
  ): Promise<Doc<T> | null> {
    return (await this.query<T>(type, query, { ...options, limit: 1 }))[0] ?? null
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
    const found = await this.reader.find(name, {
      filter: parsed.filter,
      sort: parsed.options.sort.length > 0 ? parsed.options.sort : CREATION_ORDER,
      limit: limit + 1,
      ...(options.cursor ? { after: decodeCursor(options.cursor) } : {}),
      lock: this.locking(options.forUpdate, `page(${name})`),
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
    return this.reader.count(this.open(type), splitQuery(query).filter)
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
    return this.reader.aggregate(name, splitQuery(match).filter, {
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
    return (await this.reader.search(name, terms, options.limit ?? 10)).map((r) => toDoc<T>(r))
  }

  async relate(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<void> {
    const edge = await this.edge(from, predicate, to)
    await this.write(keyOf('relate', edge.fromType, edge), (session) =>
      session.tx.relate(edge, this.engine.clock.now()),
    )
  }

  async unrelate(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<void> {
    const edge = await this.edge(from, predicate, to)
    await this.write(keyOf('unrelate', edge.fromType, edge), (session) => session.tx.unrelate(edge))
  }

  async related<T = Record<string, unknown>>(
    from: string | Doc,
    predicate: TypeRef,
    type?: TypeRef,
  ): Promise<Doc<T>[]> {
    const end = await this.endpoint(from, 'related()')
    const records = await this.reader.related(
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
      const batch = await this.reader.find(name, {
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
    const fields = items.map((item, i) => this.checked(name, fieldsOf(item, `batchCreate(${name})[${i}]`)))
    return this.write(keyOf('batchCreate', name), async (session) => {
      const now = this.engine.clock.now()
      const docs = items.map((item, i) => {
        const explicit = (item as { $id?: unknown }).$id
        return {
          type: name,
          id: typeof explicit === 'string' ? explicit : session.nextId(),
          data: fields[i] as Data,
          now,
        }
      })
      const created = await session.tx.insertMany(docs)
      for (const record of created) session.outbox(record, 'created')
      return created.map((record) => toDoc<T>(record))
    })
  }

  async batchUpdate(type: TypeRef, updates: readonly { readonly id: string; readonly patch: Data }[]): Promise<number> {
    const name = this.open(type)
    const place = `batchUpdate(${name})`
    const parsed: { id: string; operations: PatchOperation[] }[] = updates.map(({ id, patch }, i) => ({
      id,
      operations: parsePatch(patch, `${place}[${i}]`),
    }))
    return this.write(
      keyOf(
        'batchUpdate',
        name,
        parsed.map(({ id, operations }) => [id, operations.map((o) => `${o.op} ${o.field}`)]),
      ),
      async (session) => {
        for (const { id, operations } of parsed) {
          const locked = await session.tx.lock(name, targetOf(id, place))
          if (!locked) throw new DocumentNotFoundError(`${place}: no document ${show(id)}`)
          const data = this.checked(name, applyPatch(locked.record.data, operations, place))
          session.outbox(await session.tx.put(name, id, data, this.engine.clock.now(), locked.record.data), 'updated')
        }
        return parsed.length
      },
    )
  }

  async deleteMany(type: TypeRef, query: Query): Promise<number> {
    const name = this.open(type)
    const filter = manyQuery(query, `deleteMany(${name})`, 'deletes every document')
    return this.write(keyOf('deleteMany', name, query), async (session) => {
      let n = 0
      for (const { doc } of await session.tx.find(name, { filter, lock: true })) {
        if (await session.tx.remove(name, doc.id)) {
          session.outbox(doc, 'deleted')
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
    if (this.session) throw notInTransaction('createIndex()')
    if (!Array.isArray(fields) || fields.length === 0)
      throw new DbError('createIndex(): fields must be a non-empty list of field names')
    await this.engine.store.documents.createIndex(this.open(type), fields.map(parseField), options.unique === true)
  }

  collection<T = Record<string, unknown>>(name: string, _options: { readonly owner?: string } = {}): Collection<T> {
    // A declared collection is its own type (its schema and owner are under that name).
    const declared = this.catalog.business.collections.some((c) => c.name === name)
    const type = declared ? name : typeOfCollection(name)
    return {
      create: (data, options) => this.create<T>(type, data, options),
      get: (id, options) => this.get<T>(type, id, options),
      update: ((idOrQuery: string | Query, patch: Patch<T>, options?: WriteOptions) =>
        this.update<T>(type, idOrQuery, patch, options)) as Collection<T>['update'],
      updateMany: (query, patch) => this.updateMany<T>(type, query, patch),
      upsert: (data, options) => this.upsert<T>(type, data as T, options),
      delete: (id, options) => this.delete(type, id, options),
      find: (query, options) => this.query<T>(type, query, options),
      findOne: (query, options) => this.findOne<T>(type, query, options),
      list: (options) => this.list<T>(type, options),
      count: (query) => this.count(type, query),
    }
  }

  async transaction<R>(work: (tx: Transaction) => Promise<R> | R, options?: TransactionOptions): Promise<R> {
    if (this.session || insideTransaction()) {
      throw new DbError(
        'db.transaction(): transactions do not nest; inside one, do the work with its tx (or db, which means it there)',
      )
    }
    if (typeof work !== 'function') {
      throw new DbError(`db.transaction(): expected a function (tx) => ..., got ${show(work)}`)
    }
    const { isolation } = optionsOf<TransactionOptions>(options, ['isolation'], 'db.transaction()')
    if (isolation !== undefined && !ISOLATIONS.includes(isolation)) {
      throw new DbError(`db.transaction(): isolation must be one of ${ISOLATIONS.join(', ')}; got ${show(isolation)}`)
    }
    const outer = currentContext()
    // A transaction is known by its code: what it writes depends on what it reads.
    return this.write(
      `transaction:${digest(String(work))}`,
      async (session) => {
        const tx = session.handOut(new DocumentDb(this.engine, this.catalog, this.scope, session))
        const context = new TransactionContext(tx, session, this.engine, this.catalog, outer, this.scope.service)
        let value: R
        try {
          value = await runInTransaction(context, () => work(tx))
        } catch (error) {
          await session.finish()
          throw error
        }
        // What the function began and did not await is part of it too: a failure rolls it back.
        const failed = await session.finish()
        if (failed) throw failed.error
        return value
      },
      isolation ? { isolation } : {},
    )
  }

  /** The type, once this code may use it (a service's collection is its own). */
  private open(type: TypeRef): string {
    if (this.session?.ended) {
      throw new DbError('db: this transaction has ended; its tx cannot be used after db.transaction() returns')
    }
    if (!this.session && insideTransaction()) throw notInTransaction('a db call on a db from outside the transaction')
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

  /** Whether a read should lock: `forUpdate`, which only a transaction can honour. */
  private locking(forUpdate: unknown, place: string): boolean {
    if (forUpdate === undefined || forUpdate === false) return false
    if (forUpdate !== true) throw new DbError(`${place}: forUpdate must be true or false, got ${show(forUpdate)}`)
    if (!this.session) {
      throw new DbError(
        `${place}: forUpdate locks what it reads until a transaction ends, so it works inside db.transaction() only`,
      )
    }
    return true
  }

  /** Whether a locked document meets the write's conditions; a version mismatch or `orFail` throws. */
  private holds(locked: LockedDocument, conditions: Conditions, place: string): boolean {
    const { id, version } = locked.record
    if (conditions.ifVersion !== undefined && version !== conditions.ifVersion) {
      throw new ConflictError(
        `${place}: ${id} is at version ${version}, not ${conditions.ifVersion} — it was written since it was read; read it again`,
        { currentVersion: version },
      )
    }
    if (locked.matches) return true
    if (conditions.orFail) {
      throw new ConflictError(`${place}: ${id} does not match where ${show(conditions.query)}; nothing was written`, {
        currentVersion: version,
        retryable: false,
      })
    }
    return false
  }

  /** Validate against the collection's schema, if it declared one. */
  private checked(name: string, data: Record<string, unknown>): Record<string, unknown> {
    const schema = this.catalog.business.collections.find((c) => c.name === name && c.schema)?.schema
    return schema ? (validate(schema, data, `${name} document`) as Record<string, unknown>) : data
  }

  /**
   * One write in a session: in a transaction, the transaction's; otherwise a transaction of
   * its own — in a run, a durable step recorded in it.
   */
  private async write<R>(
    what: string,
    work: (session: WriteSession) => Promise<R>,
    transaction?: { readonly isolation?: Isolation },
  ): Promise<R> {
    const session = this.session
    if (session) return session.exclusive(() => work(session))
    return this.scope.write(what, async (base, step) => {
      let opened: WriteSession | undefined
      const {
        value,
        replayed,
        published,
        work: made,
      } = await this.engine.store.documents.transaction(
        async (tx) => {
          const session = new WriteSession(this.engine, this.catalog, this.scope, tx, base)
          opened = session
          try {
            const value = await work(session)
            await session.close()
            return value
          } finally {
            session.ended = true
          }
        },
        {
          ...(transaction ? { userCode: true, ...transaction } : {}),
          ...(step ? { step: { ...step, finishedAt: () => this.engine.clock.now() } } : {}),
        },
      )
      if (!replayed) opened?.announce(published, made)
      return value
    })
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
    const found = await this.reader.byId(value)
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
      const record = await this.reader.get(typeName(r.$type), r.$id)
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
