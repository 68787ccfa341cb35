/**
 * References of the semantic vocabulary: `$.Order.created`, `$.Product`, `$.belongsTo`,
 * `$.Customer.purchases.Product`. A reference is memoised (`$.A.b === $.A.b`), frozen, and
 * behaves as its dotted string (`String`, template strings, computed keys, `toJSON`), so it
 * works as a Map key, an object key and in logs. It is also callable: `$.Product.create(data)`
 * is `db.create('Product', data)` and `$.Email.send(input)` is `send($.Email.send, input)`.
 *
 * @example
 * const key = `${$.Order.created}` // 'Order.created'
 * const handlers = { [$.Order.created]: (order: Order) => {} }
 */
import { current } from './context.ts'
import { DeclarationError } from './errors.ts'
import type { PAYLOAD, PayloadOf, ResultOf, Untyped } from './types.ts'

const PATH = Symbol.for('bac.ref.path')
const INSPECT = Symbol.for('nodejs.util.inspect.custom')
/** A part of a reference: a name, possibly `_internal` (an operation internal to its service). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Property names a reference never turns into a child reference: ones that JavaScript, test
 * frameworks and loggers probe on any object. Reading them must not look like a vocabulary word
 * (a `then` would make `await $.Order` hang, an `asymmetricMatch` would fool `expect`).
 */
const RESERVED = new Set([
  'then',
  'catch',
  'finally',
  'constructor',
  'prototype',
  '__proto__',
  'asymmetricMatch',
  'nodeType',
  'tagName',
  'call',
  'apply',
  'bind',
  'length',
  'name',
  'caller',
  'arguments',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'inspect',
])

/** Whether a property name reads as a vocabulary word (and not as one JavaScript probes). */
export const isWord = (key: string): boolean => !RESERVED.has(key) && IDENTIFIER.test(key)

/** Words that, as the predicate of a one-noun reference, make it a `db` call on that noun. */
export const DB_VERBS = new Set([
  'create',
  'get',
  'update',
  'upsert',
  'delete',
  'find',
  'findOne',
  'list',
  'count',
  'search',
])

export interface RefShape<P extends string, T> {
  /** The dotted form, e.g. `'Order.created'`. */
  readonly path: P
  /** The parts of the path, e.g. `['Order', 'created']`. */
  readonly parts: readonly string[]
  /** The noun (`'Order'`), when the first part is capitalised. */
  readonly subject: string | undefined
  /** The verb or relation (`'created'`, `'belongsTo'`). */
  readonly predicate: string | undefined
  /** The third part of `$.Customer.purchases.Product`. */
  readonly object: string | undefined
  toString(): P
  toJSON(): P
  readonly [PAYLOAD]?: T
}

/**
 * A reference typed as its own string (so it can be a computed key) plus its parts. `T` is the
 * payload type, taken from `Events`/`Operations` or from a zod schema given to `events()`.
 */
export type Ref<P extends string = string, T = PayloadOf<P>> = P & RefShape<P, T>

/** Options of `send` (and of calling a reference). */
export interface SendOptions {
  /** A duplicate send with the same key runs nothing and returns the first result. */
  readonly idempotencyKey?: string
  /** For operation calls: the service version range to route to, e.g. `'^1'`. */
  readonly version?: string
  /** Deliver no earlier than this (a Date, epoch ms, or an ISO string). */
  readonly deliverAt?: Date | number | string
  /** Trace and correlation id carried to every run this causes. */
  readonly correlationId?: string
  readonly [option: string]: unknown
}

/** A reference to an event or verb: a `Ref`, callable to send, and extendable by a third part. */
export type EventRef<N extends string = string, T = PayloadOf<N>> = Ref<N, T> &
  ((payload: T, options?: SendOptions) => Promise<ResultOf<N>>) & { readonly [object: string]: Untyped }

/** True for values made by `$` (in this or another copy of the sdk). */
export const isRef = (value: unknown): value is Ref =>
  typeof value === 'function' && typeof (value as unknown as Record<symbol, unknown>)[PATH] === 'string'

/**
 * The dotted path of a reference or string, without the `$.` prefix the seeds sometimes
 * write (`'$.Order.created'` → `'Order.created'`).
 */
export function refPath(value: string | Ref): string {
  const path = isRef(value) ? value.path : String(value)
  return path.startsWith('$.') ? path.slice(2) : path
}

const memo = new Map<string, Ref>()

/**
 * The memoised reference for a dotted path; `ref('Order.created') === $.Order.created`.
 *
 * @example
 * ref('$.Order.created').subject // 'Order'
 */
export function ref<P extends string>(path: P): Ref<P> {
  const normalized = refPath(path)
  const known = memo.get(normalized)
  if (known) return known as Ref<P>
  const parts = normalized.split('.')
  for (const part of parts) {
    if (!IDENTIFIER.test(part)) {
      throw new DeclarationError(
        `ref('${path}'): every part of a reference must be a name such as Order or created, got "${part}"`,
      )
    }
  }
  const made = makeRef(normalized, parts)
  memo.set(normalized, made)
  return made as Ref<P>
}

const isNoun = (part: string | undefined): part is string => part !== undefined && /^[A-Z]/.test(part)

function makeRef(path: string, parts: readonly string[]): Ref {
  const [first, second, third] = parts
  const subject = isNoun(first) ? first : undefined
  const predicate = subject ? second : first
  const object = subject ? third : second
  const show = () => path
  // An arrow function has no `prototype`; without `name` and `length` the frozen target has no
  // own properties, so the proxy may answer any key (proxy invariants only bind own properties).
  const target = (() => {}) as unknown as Record<PropertyKey, unknown>
  delete target.name
  delete target.length
  target[INSPECT] = () => `$.${path}`
  Object.freeze(target)
  return new Proxy(target, {
    get(_, key) {
      if (typeof key === 'symbol') {
        if (key === Symbol.toPrimitive) return show
        if (key === PATH) return path
        if (key === INSPECT) return target[INSPECT]
        if (key === Symbol.toStringTag) return 'Ref'
        return undefined
      }
      switch (key) {
        case 'toString':
        case 'toJSON':
        case 'valueOf':
          return show
        case 'path':
          return path
        case 'parts':
          return parts
        case 'subject':
          return subject
        case 'predicate':
          return predicate
        case 'object':
          return object
      }
      return isWord(key) ? ref(`${path}.${key}`) : undefined
    },
    apply(_, __, args: unknown[]) {
      return invoke(path, parts, args)
    },
  }) as unknown as Ref
}

/** `$.Product.create(data)` → `db.create('Product', data)`; `$.Email.send(x)` → `send(...)`. */
function invoke(path: string, parts: readonly string[], args: unknown[]): Promise<unknown> {
  const [noun, verb] = parts
  if (parts.length === 2 && noun && verb && isNoun(noun) && DB_VERBS.has(verb)) {
    const db = current(`$.${path}()`).db as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    const method = db[verb]
    if (typeof method !== 'function') return Promise.reject(new TypeError(`db.${verb} is not available`))
    return method.call(db, noun, ...args)
  }
  return current(`$.${path}()`).send(path, args[0], args[1] as SendOptions | undefined)
}
