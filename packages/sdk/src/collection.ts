/**
 * `$.db.collection(name, { schema })`: a collection of the business, its documents validated
 * against `schema` on every write. The service that lists it in its `data` owns it: the runtime
 * lets only that service's runs use it, so other services reach the data through the owner's
 * operations.
 *
 * @example
 * const UserService = $.service({
 *   name: 'UserService',
 *   data: { users: $.db.collection<Person>('users') },
 *   operations: { getProfile: (id: string) => UserService.data.users.get(id) },
 * })
 */

import { activeCollector } from './collector.ts'
import { type Collection, forwardingCollection } from './db.ts'
import type { CollectionDefinition } from './definition.ts'
import { DeclarationError } from './errors.ts'
import { type SchemaLike, toSchema } from './schema.ts'

const COLLECTION = Symbol.for('bac.sdk.collection')

/** A declared collection: usable as a `Collection`, and knows its definition. */
export type CollectionHandle<T = Record<string, unknown>> = Collection<T> & {
  readonly definition: CollectionDefinition
}

export function isCollectionHandle(value: unknown): value is CollectionHandle {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[COLLECTION] === true
}

/** Declare a collection, optionally with a schema its documents are validated against. */
export function collection<T = Record<string, unknown>>(
  name: string,
  options: { readonly schema?: SchemaLike; readonly events?: boolean } = {},
): CollectionHandle<T> {
  if (typeof name !== 'string' || !/^[A-Za-z][\w-]*$/.test(name)) {
    throw new DeclarationError(`$.db.collection(): name must be a word such as 'users', got ${JSON.stringify(name)}`)
  }
  const schema =
    options.schema === undefined ? undefined : toSchema(options.schema, `$.db.collection('${name}') schema`)
  const declared = handle<T>(
    Object.freeze({
      kind: 'collection',
      name,
      ...(schema ? { schema } : {}),
      ...(options.events === false ? { events: false } : {}),
    }),
  )
  // Declared in the business even when no service lists it: its schema holds for every write.
  activeCollector().add(declared.definition)
  return declared
}

/** The same collection, owned by `service`. */
export function ownedBy<T>(declared: CollectionHandle<T>, service: string): CollectionHandle<T> {
  return handle<T>(Object.freeze({ ...declared.definition, owner: service }))
}

function handle<T>(definition: CollectionDefinition): CollectionHandle<T> {
  const forward = forwardingCollection<T>(definition.name, definition.owner ? { owner: definition.owner } : undefined)
  return new Proxy(forward as CollectionHandle<T>, {
    get(target, key) {
      if (key === COLLECTION) return true
      if (key === 'definition') return definition
      return Reflect.get(target, key)
    },
  })
}
