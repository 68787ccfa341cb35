/**
 * `db`: the document store of the running business (implemented by the runtime on its
 * SQLite/PostgreSQL store). Every call resolves to the current run's `ctx.db`, so a write made
 * inside a run is part of that run's durable steps. Types may be written as references
 * (`$.Product`), names (`'Product'`) or the seeds' `'$.Product'`; `db.Products` is the
 * collection of one type.
 *
 * Writes are safe under concurrency, whatever number of workers share the store: update
 * operators (`$inc`, `$push`...) apply to the document as it is when the write takes its lock;
 * `where` makes a write conditional and `ifVersion` optimistic; `db.transaction` groups reads
 * and writes that commit or roll back together.
 *
 * @example
 * const product = await db.create($.Product, { name: 'Lamp', price: 40, stock: 5 })
 * const cheap = await db.query($.Product, { price: { $lt: 50 } }, { sort: { price: 1 }, limit: 10 })
 * // Take one only while there is one: null when stock ran out.
 * const taken = await db.update($.Product, product.$id, { $inc: { stock: -1 } }, { where: { 'stock:gte': 1 } })
 */
import { current } from './context.ts'
import { isRef, type Ref, refPath } from './ref.ts'
import type { Collections, Untyped } from './types.ts'

/** A stored document: your fields plus its identity, version and timestamps. */
export type Doc<T = Record<string, unknown>> = T & {
  readonly $id: string
  readonly $type: string
  /** 1 when created, one more on every write: pass it back as `ifVersion` to write only if no one else has. */
  readonly $version: number
  readonly $createdAt: string
  readonly $updatedAt: string
}

/** A type as written by users. */
export type TypeRef = string | Ref

/** A query: equality, `$gt $gte $lt $lte $ne $in $nin $exists $regex`, `$and $or`, `'field:gte'`. */
export type Query = Readonly<Record<string, unknown>>

/**
 * An update: plain fields are set, and operators change single fields (dotted paths reach
 * into nested objects): `$set $unset $inc $mul $min $max $push $addToSet $pull`.
 */
export type Patch<T = Record<string, unknown>> = Partial<T> & Readonly<Record<string, unknown>>

export interface QueryOptions {
  readonly sort?: Readonly<Record<string, 1 | -1 | 'asc' | 'desc'>>
  readonly limit?: number
  readonly skip?: number
  readonly select?: readonly string[]
  readonly include?: readonly string[]
  readonly cursor?: string
  /** Inside `db.transaction`: lock what is read until the transaction ends, so no one else writes it meanwhile. */
  readonly forUpdate?: boolean
}

export interface Page<T> {
  readonly data: readonly T[]
  readonly nextCursor?: string
  readonly hasMore: boolean
}

/**
 * Conditions of a write to one document, checked atomically with it (under the document's lock).
 *
 * @example
 * await db.update('Account', id, { $inc: { balance: -10 } }, { where: { 'balance:gte': 10 } }) // null if not
 * await db.update('Account', id, { owner: 'ann' }, { ifVersion: 3 }) // ConflictError if someone wrote since
 */
export interface WriteOptions {
  /** Write only if the document is still at this `$version`; otherwise a `ConflictError` naming the current one. */
  readonly ifVersion?: number
  /** Write only while the document matches this query; otherwise `update` gives `null` and `delete` `false`. */
  readonly where?: Query
  /** With `where`: throw a `ConflictError` instead of giving `null` or `false`. */
  readonly orFail?: boolean
}

/** A conditional write that answers `null` when its condition does not hold. */
export type ConditionalWrite = WriteOptions & { readonly where: Query; readonly orFail?: false }

export interface TransactionOptions {
  /**
   * PostgreSQL's isolation level (default `'read committed'`, where `forUpdate` locks make
   * read-check-write safe). SQLite transactions are serializable whatever is asked.
   */
  readonly isolation?: 'read committed' | 'repeatable read' | 'serializable'
}

/** Operations on one collection (`db.Products`, `$.db.collection('users')`). */
export interface Collection<T = Record<string, unknown>> {
  create(data: T, options?: { readonly idempotencyKey?: string }): Promise<Doc<T>>
  get(id: string, options?: Pick<QueryOptions, 'include' | 'forUpdate'>): Promise<Doc<T> | null>
  update(idOrQuery: string | Query, patch: Patch<T>, options: ConditionalWrite): Promise<Doc<T> | null>
  update(idOrQuery: string | Query, patch: Patch<T>, options?: WriteOptions): Promise<Doc<T>>
  /** Every document matching `query` (`{}` for all), each with the same patch; resolves to how many. */
  updateMany(query: Query, patch: Patch<T>): Promise<number>
  upsert(data: Partial<T> & { readonly $id?: string }, options?: { readonly on?: readonly string[] }): Promise<Doc<T>>
  delete(id: string, options?: WriteOptions): Promise<boolean>
  find(query?: Query, options?: QueryOptions): Promise<Doc<T>[]>
  findOne(query?: Query, options?: Pick<QueryOptions, 'forUpdate'>): Promise<Doc<T> | null>
  list(options?: QueryOptions & { readonly where?: Query }): Promise<Doc<T>[]>
  count(query?: Query): Promise<number>
}

/** The whole db API (the runtime implements it). */
export interface Db {
  create<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options?: { readonly idempotencyKey?: string },
  ): Promise<Doc<T>>
  get<T = Record<string, unknown>>(
    type: TypeRef,
    id: string,
    options?: Pick<QueryOptions, 'include' | 'forUpdate'>,
  ): Promise<Doc<T> | null>
  /**
   * Update one document by id (or the first matching a query) with a patch, atomically: the
   * operators apply to the document as it is under its lock. With `where`, only while it
   * matches (`null` when it does not); with `ifVersion`, only if no one wrote it since.
   */
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
  /** Every document matching `query` (`{}` for all), each with the same patch, in one transaction; how many. */
  updateMany<T = Record<string, unknown>>(type: TypeRef, query: Query, patch: Patch<T>): Promise<number>
  upsert<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options?: { readonly on?: readonly string[] },
  ): Promise<Doc<T>>
  /** `false` when there was no such document (or, with `where`, it did not match). */
  delete(type: TypeRef, id: string, options?: WriteOptions): Promise<boolean>
  query<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Doc<T>[]>
  find<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Doc<T>[]>
  findOne<T = Record<string, unknown>>(
    type: TypeRef,
    query?: Query,
    options?: Pick<QueryOptions, 'forUpdate'>,
  ): Promise<Doc<T> | null>
  list<T = Record<string, unknown>>(
    type: TypeRef,
    options?: QueryOptions & { readonly where?: Query },
  ): Promise<Doc<T>[]>
  page<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Page<Doc<T>>>
  count(type: TypeRef, query?: Query): Promise<number>
  aggregate(type: TypeRef, pipeline: readonly Readonly<Record<string, unknown>>[]): Promise<Record<string, unknown>[]>
  search<T = Record<string, unknown>>(
    type: TypeRef,
    options: { readonly query: string; readonly limit?: number },
  ): Promise<Doc<T>[]>
  relate(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<void>
  unrelate(from: string | Doc, predicate: TypeRef, to: string | Doc): Promise<void>
  related<T = Record<string, unknown>>(from: string | Doc, predicate: TypeRef, type?: TypeRef): Promise<Doc<T>[]>
  stream<T = Record<string, unknown>>(type: TypeRef, query?: Query): AsyncIterable<Doc<T>>
  batchCreate<T = Record<string, unknown>>(type: TypeRef, items: readonly T[]): Promise<Doc<T>[]>
  batchUpdate(
    type: TypeRef,
    updates: readonly { readonly id: string; readonly patch: Readonly<Record<string, unknown>> }[],
  ): Promise<number>
  deleteMany(type: TypeRef, query: Query): Promise<number>
  createIndex(type: TypeRef, fields: readonly string[], options?: { readonly unique?: boolean }): Promise<void>
  /** A named collection; `owner` is the service whose operations alone may use it. */
  collection<T = Record<string, unknown>>(name: string, options?: { readonly owner?: string }): Collection<T>
  /**
   * Reads and writes that commit together or not at all, with the events their writes emit
   * (and those `send` publishes inside). Rows read with `forUpdate` stay locked until the end,
   * so read-check-write is safe; deadlocks and serialization failures are retried (the
   * function runs again), then fail with a `ConflictError`. Inside, `db` (and collection
   * handles) mean the transaction; steps, calls and waits belong outside it. In a run, the
   * transaction is one durable step: it commits once, with its record, and a replay returns
   * what it returned.
   *
   * @example
   * await db.transaction(async (tx) => {
   *   const from = await tx.get('Account', 'a', { forUpdate: true })
   *   if (!from || from.balance < 10) throw new NonRetryableError('insufficient funds')
   *   await tx.update('Account', 'a', { $inc: { balance: -10 } })
   *   await tx.update('Account', 'b', { $inc: { balance: 10 } })
   * })
   */
  transaction<R>(work: (tx: Transaction) => Promise<R> | R, options?: TransactionOptions): Promise<R>
}

/** What a `db.transaction` function gets: the db, inside the transaction. */
export type Transaction = Omit<Db, 'transaction' | 'createIndex' | 'stream'>

/** `db` as imported: the API plus `db.Products`-style collections (typed when declared in `Collections`). */
export type AmbientDb = Db & { readonly [K in keyof Collections]: Collection<Collections[K]> } & {
  readonly [collection: string]: Untyped
}

/** References become their path; a type string loses the seeds' `$.` prefix. */
const normalize = (args: readonly unknown[]): unknown[] =>
  args.map((arg, i) => (isRef(arg) || (i === 0 && typeof arg === 'string') ? refPath(arg as string) : arg))

/** A collection whose calls resolve `ctx.db.collection(name, options)` at call time. */
export function forwardingCollection<T>(name: string, options?: { readonly owner?: string }): Collection<T> {
  return new Proxy({} as Collection<T>, {
    get(_, method) {
      if (typeof method !== 'string' || method === 'then') return undefined
      return (...args: unknown[]) => {
        const collection = current(`db.${name}.${method}()`).db.collection<T>(name, options) as unknown as Record<
          string,
          (...a: unknown[]) => unknown
        >
        const fn = collection[method]
        if (typeof fn !== 'function') throw new TypeError(`db.${name}.${method} is not a collection operation`)
        return fn.apply(
          collection,
          args.map((a) => (isRef(a) ? refPath(a) : a)),
        )
      }
    },
  })
}

export const db: AmbientDb = new Proxy({} as AmbientDb, {
  get(_, key) {
    if (typeof key !== 'string' || key === 'then') return undefined
    if (/^[A-Z]/.test(key)) return forwardingCollection(key)
    return (...args: unknown[]) => {
      const target = current(`db.${key}()`).db as unknown as Record<string, (...a: unknown[]) => unknown>
      const method = target[key]
      if (typeof method !== 'function') throw new TypeError(`db.${key} is not a db operation`)
      return method.apply(target, normalize(args))
    }
  },
})
