/**
 * `on(pattern, handler, options?)`: run `handler` for every event that matches, each delivery
 * a durable run with retries. Declares only; the runtime executes.
 *
 * @example
 * on($.Order.created, async (order, ctx) => {
 *   await ctx.step('receipt', () => send($.Email.send, { to: order.email, template: 'receipt' }))
 * }, { retry: 5, timeout: '30s', idempotencyKey: (order) => order.id })
 */
import { activeCollector, type Declared, declares } from './collector.ts'
import type { Context } from './context.ts'
import type { AnyFunction, HandlerDefinition } from './definition.ts'
import { DeclarationError } from './errors.ts'
import { type HandlerInput, handlerOptions } from './options.ts'
import { normalizePatterns, type PatternInput } from './pattern.ts'
import { sendsOf } from './sends-of.ts'
import { callerSource } from './source.ts'
import type { Bivariant, PayloadOfPattern } from './types.ts'

/** A handler of payload `T`; a handler annotated with a narrower type is accepted too. */
export type Handler<T = unknown> = Bivariant<[payload: T, ctx: Context], unknown>

/** The name of a declared function, or `undefined` for an anonymous one. */
export function functionName(fn: AnyFunction): string | undefined {
  const name = fn.name.replace(/^bound /, '')
  return name && name !== 'anonymous' ? name : undefined
}

export function assertFunction(value: unknown, place: string, what = 'the handler'): asserts value is AnyFunction {
  if (typeof value !== 'function') {
    throw new DeclarationError(`${place}: ${what} must be a function, got ${JSON.stringify(value) ?? typeof value}`)
  }
}

/** Build (without registering) a handler definition; `service` marks one declared in a service. */
export function handlerDefinition(
  pattern: unknown,
  handler: unknown,
  options: unknown,
  place: string,
  service?: string,
): HandlerDefinition {
  const patterns = normalizePatterns(pattern, place)
  assertFunction(handler, place)
  const normalized = handlerOptions(options, place)
  const collector = activeCollector()
  const base = service ? `${service}.${patterns.join('|')}` : (functionName(handler) ?? patterns.join('|'))
  const name = normalized.name ?? collector.uniqueName('handler', base)
  return {
    kind: 'handler',
    name,
    patterns,
    handler,
    options: normalized,
    sends: sendsOf(handler),
    ...(service ? { service } : {}),
    ...sourceField(),
  }
}

export const sourceField = (): { source?: string } => {
  const source = callerSource()
  return source ? { source } : {}
}

export function on<const P extends PatternInput>(
  pattern: P,
  handler: Handler<PayloadOfPattern<P>>,
  options?: HandlerInput<PayloadOfPattern<P>>,
): HandlerDefinition & Declared {
  const place = `on(${describePattern(pattern)})`
  const definition = handlerDefinition(pattern, handler, options, place)
  activeCollector().add(definition)
  return Object.freeze(declares(definition, [definition]))
}

const describePattern = (pattern: unknown): string =>
  Array.isArray(pattern) ? `[${pattern.map(String).join(', ')}]` : `'${String(pattern)}'`
