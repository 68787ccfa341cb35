/**
 * The business definition: plain data that the declarations (`on`, `every`, `$.service`,
 * `$.saga`, ...) are collected into. The runtime executes it, `bac inspect` and `describe()`
 * list it. Nothing in it runs by itself; functions are kept as values to be called later.
 *
 * @example
 * const shop = business('shop', () => { on($.Order.created, sendReceipt) })
 * shop.handlers[0].patterns // ['Order.created']
 */
import type { Context } from './context.ts'
import type { MetricDefinition } from './metric.ts'
import type { HandlerOptions, PolicyOptions } from './options.ts'
import type { Schema } from './schema.ts'

/** Any declared function. Its arguments are checked by schemas, not by this type. */
// biome-ignore lint/suspicious/noExplicitAny: declared functions take user-typed arguments
export type AnyFunction = (...args: any[]) => unknown

export interface HandlerDefinition {
  readonly kind: 'handler'
  /** Unique within the business; runs refer to it, so it must stay stable across deploys. */
  readonly name: string
  /** Normalised patterns: `'Order.created'`, `'Order.*'`, `'*.created'`, `'*'`. */
  readonly patterns: readonly string[]
  readonly handler: AnyFunction
  readonly options: HandlerOptions
  /** The owning service, for handlers declared in `$.service({ handlers })`. */
  readonly service?: string
  /** Events the handler's source visibly sends (best effort; `bac inspect` analyses fully). */
  readonly sends: readonly string[]
  /** Where it was declared, `file:line:column`. */
  readonly source?: string
}

export interface ScheduleDefinition {
  readonly kind: 'schedule'
  readonly name: string
  /** A 5-field (minute) or 6-field (second) cron expression. */
  readonly cron: string
  /** What was written: `'Monday at 9am'`, `'0 9 * * 1'`. */
  readonly description: string
  readonly timezone?: string
  readonly handler: AnyFunction
  readonly options: PolicyOptions
  readonly service?: string
  readonly sends: readonly string[]
  readonly source?: string
}

export interface OperationDefinition {
  readonly kind: 'operation'
  readonly name: string
  readonly service: string
  /** The verb `send` reaches it by, e.g. `'Email.send'`. */
  readonly verb: string
  /** Operations named `_x` are callable only from inside their own service. */
  readonly internal: boolean
  readonly handler: AnyFunction
  readonly input?: Schema
  readonly output?: Schema
  readonly description?: string
  readonly options: PolicyOptions
  readonly sends: readonly string[]
}

export interface EndpointDefinition {
  readonly kind: 'endpoint'
  readonly method: HttpMethod
  /** A hono-style path, e.g. `/products/:id`. */
  readonly path: string
  readonly handler: AnyFunction
  readonly service: string
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'ALL'

export interface HealthDefinition {
  readonly check: () => unknown
  /** Milliseconds between checks. */
  readonly interval: number
}

export interface ServiceDefinition {
  readonly kind: 'service'
  readonly name: string
  /** The identifier form of the name, as used by `$.rpc.<key>`: `'Email Service'` → `'EmailService'`. */
  readonly key: string
  /** The noun its operations' verbs start with: `'EmailService'` → `'Email'`. */
  readonly subject: string
  readonly version?: string
  readonly type?: string
  readonly description?: string
  readonly operations: readonly OperationDefinition[]
  readonly endpoints: readonly EndpointDefinition[]
  /** Names of its handlers and jobs (the definitions are in the business's lists). */
  readonly handlers: readonly string[]
  readonly jobs: readonly string[]
  /** Names of the collections it owns. */
  readonly collections: readonly string[]
  readonly health?: HealthDefinition
  readonly metrics: readonly MetricDefinition[]
  /** Version routing: range (`'1.x'`) → the service version that serves it. */
  readonly versions?: Readonly<Record<string, ServiceDefinition>>
  readonly policies: PolicyOptions
  /** Declared keys the runtime does not act on (deployment, security, tracing, ...). */
  readonly meta: Readonly<Record<string, unknown>>
  readonly source?: string
}

export interface SagaStepDefinition {
  readonly name: string
  readonly action: (input: unknown, ctx: Context) => unknown
  readonly compensation?: (input: unknown, result: unknown, ctx: Context) => unknown
  readonly options: PolicyOptions
}

export interface SagaDefinition {
  readonly kind: 'saga'
  readonly name: string
  readonly steps: readonly SagaStepDefinition[]
  readonly options: PolicyOptions
  readonly sends: readonly string[]
  readonly source?: string
}

/** One element of a composition, resolved to what the runtime calls. */
export type ComposableDefinition =
  | { readonly kind: 'function'; readonly name: string; readonly fn: AnyFunction }
  | { readonly kind: 'operation'; readonly service: string; readonly operation: string }
  | { readonly kind: 'send'; readonly verb: string }
  | { readonly kind: 'saga' | 'composition' | 'agent'; readonly name: string }

export interface ConditionDefinition {
  readonly when: (input: unknown) => unknown
  readonly use: ComposableDefinition
}

export interface CompositionDefinition {
  readonly kind: 'composition'
  readonly name: string
  readonly mode: 'sequence' | 'parallel' | 'conditional'
  readonly steps: readonly ComposableDefinition[]
  readonly conditions: readonly ConditionDefinition[]
  readonly fallback?: ComposableDefinition
  readonly source?: string
}

export interface ToolDefinition {
  readonly name: string
  readonly description?: string
  readonly input?: Schema
  /** A custom tool's function. */
  readonly handler?: AnyFunction
  /** A tool that calls an operation of the agent's service. */
  readonly operation?: { readonly service: string; readonly name: string }
  /** Built-in tools (`send`, `call`, `db.query`, ...) are supplied by the runtime. */
  readonly builtin: boolean
}

export interface AgentDefinition {
  readonly kind: 'agent'
  readonly name: string
  readonly instructions: string
  readonly model?: string
  readonly tools: readonly ToolDefinition[]
  readonly maxTurns: number
  /** Spending limit in US dollars for one run of the agent. */
  readonly budget?: number
  readonly service?: string
  readonly source?: string
}

export interface CollectionDefinition {
  readonly kind: 'collection'
  readonly name: string
  readonly schema?: Schema
  /** The service that owns it; others reach it only through that service's operations. */
  readonly owner?: string
  /** `false`: writes emit no `<name>.created/updated/deleted` events. */
  readonly events?: boolean
}

export interface BusinessDefinition {
  readonly name: string
  readonly handlers: readonly HandlerDefinition[]
  readonly schedules: readonly ScheduleDefinition[]
  readonly services: readonly ServiceDefinition[]
  readonly sagas: readonly SagaDefinition[]
  readonly compositions: readonly CompositionDefinition[]
  readonly agents: readonly AgentDefinition[]
  /** Event name → schema, from `events({...})`; payloads are validated against them. */
  readonly events: Readonly<Record<string, Schema>>
  readonly metrics: readonly MetricDefinition[]
  readonly collections: readonly CollectionDefinition[]
}

/** Anything a collector holds, by the list it goes to. */
export type Declaration =
  | HandlerDefinition
  | ScheduleDefinition
  | ServiceDefinition
  | SagaDefinition
  | CompositionDefinition
  | AgentDefinition
  | MetricDefinition
  | CollectionDefinition
