/**
 * Event patterns: an exact name (`'Order.created'`, `$.Order.created`), a wildcard part
 * (`'Order.*'`, `'*.created'`), every event (`'*'`), or a list of these. A `*` stands for one
 * part. A leading `$.`, as the seeds write strings, is dropped.
 *
 * @example
 * matches('Order.*', 'Order.created') // true
 * matches('*.created', 'Customer.purchases.Product') // false: parts are counted
 */
import { DeclarationError } from './errors.ts'
import { isRef, type Ref, refPath } from './ref.ts'

export type PatternInput = string | Ref | readonly (string | Ref)[]

const PART = /^(?:[A-Za-z_][A-Za-z0-9_]*|\*)$/

/** The normalised patterns of `input`; a malformed one is a `DeclarationError` at `place`. */
export function normalizePatterns(input: unknown, place: string): string[] {
  const list = Array.isArray(input) ? input : [input]
  if (list.length === 0) throw new DeclarationError(`${place}: the list of events is empty`)
  return [...new Set(list.map((item) => normalizePattern(item, place)))]
}

export function normalizePattern(input: unknown, place: string): string {
  if (typeof input !== 'string' && !isRef(input)) {
    throw new DeclarationError(
      `${place}: expected an event such as $.Order.created or 'Order.created', got ${describe(input)}`,
    )
  }
  const pattern = refPath(input)
  if (pattern === '*') return pattern
  const parts = pattern.split('.')
  const bad = parts.find((part) => !PART.test(part))
  if (bad !== undefined || parts.length < 2) {
    const hint = parts.length < 2 && bad === undefined ? ` (did you mean '${pattern}.*'?)` : ''
    throw new DeclarationError(
      `${place}: "${pattern}" is not an event pattern${hint}; write 'Noun.verb', 'Noun.*', '*.verb' or '*'`,
    )
  }
  return pattern
}

/** Whether the event `name` matches `pattern` (both normalised). */
export function matches(pattern: string, name: string): boolean {
  if (pattern === '*' || pattern === name) return true
  if (!pattern.includes('*')) return false
  const want = pattern.split('.')
  const have = name.split('.')
  return want.length === have.length && want.every((part, i) => part === '*' || part === have[i])
}

const describe = (value: unknown): string =>
  typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value))

/** The name of one event to send: a reference or `'Noun.verb'` string, without wildcards. */
export function eventName(input: unknown, place: string): string {
  const name = normalizePattern(input, place)
  if (name.includes('*'))
    throw new DeclarationError(`${place}: "${name}" is a pattern; send needs one event name such as 'Order.created'`)
  return name
}
