/**
 * `db`: the document store of the running business (implemented by the runtime on its
 * SQLite/PostgreSQL store). Every call resolves to the current run's `ctx.db`, so a write made
 * inside a run is part of that run's durable steps. Types may be written as references
 * (`$.Product`), names (`'Product'`) or the seeds' `'$.Product'`; `db.Products` is the
 * collection of one type.
 *
 * @example
 * const product = await db.create($.Product, { name: 'Lamp', price: 40 })
 * const cheap = await db.query($.Product, { price: { $lt: 50 } }, { sort: { price: 1 }, limit: 10 })
 * await db.Products.update(product.$id, { price: 35 })
 */
import { current } from './context.ts'
import { isRef, type Ref, refPath } from './ref.ts'
import type { Collections, Untyped } from './types.ts'

/** A stored document: your fields plus its identity and timestamps. */
export type Doc<T = Record<string, unknown>> = T & {
  readonly $id: string
  readonly $type: string
  readonly $createdAt: string
  readonly $updatedAt: string
}

/** A type as written by users. */
export type TypeRef = string | Ref

/** A query: equality, `$gt $gte $lt $lte $ne $in $nin $exists $regex`, `$and $or`, `'field:gte'`. */
export type Query = Readonly<Record<string, unknown>>

export interface QueryOptions {
  readonly sort?: Readonly<Record<string, 1 | -1 | 'asc' | 'desc'>>
  readonly limit?: number
  readonly skip?: number
  readonly select?: readonly string[]
  readonly include?: readonly string[]
  readonly cursor?: string
}

export interface Page<T> {
  readonly data: readonly T[]
  readonly nextCursor?: string
  readonly hasMore: boolean
}

/** Operations on one collection (`db.Products`, `$.db.collection('users')`). */
export interface Collection<T = Record<string, unknown>> {
  create(data: T, options?: { readonly idempotencyKey?: string }): Promise<Doc<T>>
  get(id: string, options?: Pick<QueryOptions, 'include'>): Promise<Doc<T> | null>
  update(idOrQuery: string | Query, patch: Partial<T>): Promise<Doc<T>>
  upsert(data: Partial<T> & { readonly $id?: string }, options?: { readonly on?: readonly string[] }): Promise<Doc<T>>
  delete(id: string): Promise<boolean>
  find(query?: Query, options?: QueryOptions): Promise<Doc<T>[]>
  findOne(query?: Query): Promise<Doc<T> | null>
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
    options?: Pick<QueryOptions, 'include'>,
  ): Promise<Doc<T> | null>
  /** Update one document by id (or the first matching a query): fields are merged; `$set $unset $inc $push` too. */
  update<T = Record<string, unknown>>(
    type: TypeRef,
    idOrQuery: string | Query,
    patch: Partial<T> & Readonly<Record<string, unknown>>,
  ): Promise<Doc<T>>
  upsert<T = Record<string, unknown>>(
    type: TypeRef,
    data: T,
    options?: { readonly on?: readonly string[] },
  ): Promise<Doc<T>>
  delete(type: TypeRef, id: string): Promise<boolean>
  query<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Doc<T>[]>
  find<T = Record<string, unknown>>(type: TypeRef, query?: Query, options?: QueryOptions): Promise<Doc<T>[]>
  findOne<T = Record<string, unknown>>(type: TypeRef, query?: Query): Promise<Doc<T> | null>
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
}

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
