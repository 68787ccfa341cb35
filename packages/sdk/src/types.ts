/**
 * The type registries users extend by declaration merging, and the payload types derived from
 * them. Nothing here exists at run time.
 *
 * @example
 * declare module '@bac/sdk' {
 *   interface Events { 'Order.created': Order }
 *   interface Operations { 'Inventory.reserve': { input: { sku: string }; output: { id: string } } }
 * }
 */

// biome-ignore lint/suspicious/noEmptyInterface: filled in by users through declaration merging
export interface Events {}

// biome-ignore lint/suspicious/noEmptyInterface: filled in by users through declaration merging
export interface Operations {}

/** Document types by collection name, for `db.Products`: `interface Collections { Products: Product }`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by users through declaration merging
export interface Collections {}

/** Names of the events declared in `Events`. */
export type EventName = Extract<keyof Events, string>

/** Names of the verbs declared in `Operations`. */
export type OperationName = Extract<keyof Operations, string>

type OperationInput<N extends OperationName> = Operations[N] extends { input: infer I } ? I : unknown
type OperationOutput<N extends OperationName> = Operations[N] extends { output: infer O } ? O : unknown

/** Phantom key that carries a reference's payload type (never present at run time). */
export declare const PAYLOAD: unique symbol

/** The payload of a named event or the input of a named operation; `unknown` when undeclared. */
export type PayloadOf<N extends string> = string extends N
  ? unknown
  : N extends EventName
    ? Events[N]
    : N extends OperationName
      ? OperationInput<N>
      : unknown

/** What `send` resolves to: an operation's output, or the event id for an event. */
export type ResultOf<N extends string> = string extends N
  ? unknown
  : N extends OperationName
    ? OperationOutput<N>
    : N extends EventName
      ? string
      : unknown

/** The payload handled by a pattern: one event, a `Noun.*` / `*.verb` wildcard, or a list. */
export type PayloadOfPattern<P> = P extends { readonly [PAYLOAD]?: infer T }
  ? T
  : P extends readonly (infer E)[]
    ? PayloadOfPattern<E>
    : P extends string
      ? PayloadOfString<StripDollar<P>>
      : unknown

type StripDollar<P extends string> = P extends `$.${infer R}` ? R : P

type PayloadOfString<P extends string> = P extends `*.${infer Verb}`
  ? UnionOrUnknown<Extract<EventName, `${string}.${Verb}`>>
  : P extends `${infer Noun}.*`
    ? UnionOrUnknown<Extract<EventName, `${Noun}.${string}`>>
    : PayloadOf<P>

type UnionOrUnknown<N extends EventName> = [N] extends [never] ? unknown : Events[N]

/** A duration: milliseconds, or a string such as `'500ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

/** Function type that accepts handlers annotated with a narrower payload (bivariant). */
export type Bivariant<A extends unknown[], R> = { bivarianceHack(...args: A): R }['bivarianceHack']

/**
 * The type of a name a proxy answers but the types do not know (`$.Anything`, `db.Things`,
 * `$.rpc.SomeService`). An index signature would be `T | undefined` under
 * `noUncheckedIndexedAccess`, making every such access an error; `any` is the one type that
 * stays usable. Declare names (in `Events`, `Operations`) to get precise types instead.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; precise types come from declared names
export type Untyped = any
