/**
 * `$`: the semantic vocabulary. `$.Order.created` is an event or verb reference, `$.Product` a
 * type, `$.belongsTo` a relation, `$.Customer.purchases.Product` a three-part statement; and
 * `$.service`, `$.saga`, `$.agent`, `$.compose`, `$.rpc`, `$.stream`, `$.metric`, `$.db` are
 * the declaration helpers. `$('Order.created')` makes a reference from a string.
 * `await $` and `await $.Order` resolve at once (they are not thenable).
 *
 * @example
 * import $, { on, send } from '@bac/sdk'
 * on($.Order.created, (order) => send($.Email.send, { to: order.email }))
 * await $.Product.create({ name: 'Lamp' })   // db.create('Product', ...)
 */
import { agent } from './agent.ts'
import { collection } from './collection.ts'
import { compose } from './compose.ts'
import type { ConditionalWrite, Doc, Patch, Query, QueryOptions, WriteOptions } from './db.ts'
import { metric } from './metric.ts'
import { type EventRef, isWord, type Ref, ref } from './ref.ts'
import { rpc } from './rpc.ts'
import { saga } from './saga.ts'
import { service } from './service.ts'
import { stream } from './stream.ts'
import type { EventName, OperationName, Untyped } from './types.ts'

type KnownName = EventName | OperationName
type SubjectOf<N> = N extends `${infer S}.${string}` ? S : never
type PredicateOf<S extends string> = KnownName extends infer N
  ? N extends `${S}.${infer P}`
    ? P extends `${string}.${string}`
      ? never
      : P
    : never
  : never

type Verb<S extends string, V extends string, F> = F & Ref<`${S}.${V}`, unknown>

/** `$.Product.create(data)` and friends: the db, for one type. */
export interface DbSugar<S extends string> {
  readonly create: Verb<
    S,
    'create',
    <T = Record<string, unknown>>(data: T, options?: { readonly idempotencyKey?: string }) => Promise<Doc<T>>
  >
  readonly get: Verb<S, 'get', <T = Record<string, unknown>>(id: string) => Promise<Doc<T> | null>>
  readonly update: Verb<
    S,
    'update',
    {
      <T = Record<string, unknown>>(id: string, patch: Patch<T>, options: ConditionalWrite): Promise<Doc<T> | null>
      <T = Record<string, unknown>>(id: string, patch: Patch<T>, options?: WriteOptions): Promise<Doc<T>>
    }
  >
  readonly upsert: Verb<S, 'upsert', <T = Record<string, unknown>>(data: T) => Promise<Doc<T>>>
  readonly delete: Verb<S, 'delete', (id: string, options?: WriteOptions) => Promise<boolean>>
  readonly find: Verb<
    S,
    'find',
    <T = Record<string, unknown>>(query?: Query, options?: QueryOptions) => Promise<Doc<T>[]>
  >
  readonly findOne: Verb<S, 'findOne', <T = Record<string, unknown>>(query?: Query) => Promise<Doc<T> | null>>
  readonly list: Verb<S, 'list', <T = Record<string, unknown>>(options?: QueryOptions) => Promise<Doc<T>[]>>
  readonly count: Verb<S, 'count', (query?: Query) => Promise<number>>
  readonly search: Verb<
    S,
    'search',
    <T = Record<string, unknown>>(options: { readonly query: string; readonly limit?: number }) => Promise<Doc<T>[]>
  >
}

/** `$.Order`: a type reference whose properties are its verbs. */
export type SubjectRef<S extends string> = Ref<S, unknown> &
  DbSugar<S> & { readonly [P in PredicateOf<S>]: EventRef<`${S}.${P}`> } & { readonly [predicate: string]: Untyped }

const helpers = Object.freeze({
  service,
  saga,
  agent,
  compose,
  rpc,
  stream,
  metric,
  db: Object.freeze({ collection }),
})

export type Helpers = typeof helpers

export type Vocabulary = Helpers &
  (<P extends string>(path: P) => EventRef<P>) & { readonly [S in SubjectOf<KnownName>]: SubjectRef<S> } & {
    readonly [subject: string]: Untyped
  }

const target = (() => {}) as unknown as Record<PropertyKey, unknown>
delete target.name
delete target.length
Object.freeze(target)

export const $: Vocabulary = new Proxy(target, {
  get(_, key) {
    if (typeof key === 'symbol') return undefined
    if (Object.hasOwn(helpers, key)) return helpers[key as keyof Helpers]
    return isWord(key) ? ref(key) : undefined
  },
  apply(_, __, [path]: unknown[]) {
    return ref(String(path))
  },
}) as unknown as Vocabulary
