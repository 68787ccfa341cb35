/**
 * `events({ Noun: { verb: schema } })`: register zod schemas for events. Payloads are then
 * validated when sent and before handlers run, and the returned vocabulary is typed by them.
 * To type the global `$` as well, merge the schemas into `Events`:
 *
 * @example
 * export const shop = events({ Order: { created: z.object({ id: z.string(), total: z.number() }) } })
 * on(shop.Order.created, (order) => order.total)           // order: { id: string; total: number }
 * declare module '@bac/sdk' { interface Events extends EventsOf<typeof schemas> {} }
 */
import type { z } from 'zod'
import { activeCollector } from './collector.ts'
import { DeclarationError } from './errors.ts'
import { type EventRef, ref } from './ref.ts'
import { isSchema, type Schema } from './schema.ts'

export type EventSchemas = Readonly<Record<string, Readonly<Record<string, Schema>>>>

/** The typed vocabulary of registered events. */
export type TypedEvents<S extends EventSchemas> = {
  readonly [N in keyof S & string]: {
    readonly [V in keyof S[N] & string]: EventRef<`${N}.${V}`, z.output<S[N][V]>>
  }
}

type EventKeys<S extends EventSchemas> = { [N in keyof S & string]: `${N}.${keyof S[N] & string}` }[keyof S & string]

/** `{ 'Order.created': Order, ... }` from registered schemas, to extend `Events` with. */
export type EventsOf<S extends EventSchemas> = {
  [K in EventKeys<S>]: K extends `${infer N}.${infer V}` ? z.output<S[N][V]> : never
}

export function events<const S extends EventSchemas>(schemas: S): TypedEvents<S> {
  if (typeof schemas !== 'object' || schemas === null) {
    throw new DeclarationError('events(): expected { Noun: { verb: zodSchema } }')
  }
  const collector = activeCollector()
  const vocabulary: Record<string, Record<string, unknown>> = {}
  for (const [noun, verbs] of Object.entries(schemas)) {
    vocabulary[noun] = {}
    for (const [verb, schema] of Object.entries(verbs ?? {})) {
      const name = `${noun}.${verb}`
      if (!isSchema(schema)) throw new DeclarationError(`events(): ${name} must be a zod schema, got ${typeof schema}`)
      const eventRef = ref(name)
      collector.addEvent(eventRef.path, schema)
      ;(vocabulary[noun] as Record<string, unknown>)[verb] = eventRef
    }
  }
  return vocabulary as TypedEvents<S>
}
