/**
 * The ambient context: what `send`, `db`, `ai`, `step`... resolve to while code runs. The
 * runtime binds a `Context` around every run (and around `rt.send`/HTTP calls) through
 * AsyncLocalStorage; the sdk only reads it. Handlers also receive the same object as `ctx`.
 *
 * The storage lives on `globalThis` under a registered symbol so that a business loaded by
 * `load()` (which may evaluate its own copy of this module) sees the runtime's binding.
 *
 * @example
 * on($.Order.created, async (order, ctx) => {
 *   const charge = await ctx.step('charge', () => stripe.charge(order))
 *   await send($.Order.paid, { id: order.id, charge })   // same as ctx.send(...)
 * })
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Ai } from './ai.ts'
import type { CacheControl } from './cache-control.ts'
import type { Db } from './db.ts'
import { NoRuntimeError } from './errors.ts'
import type { Logger } from './logger.ts'
import type { MetricDefinition, MetricRecorder } from './metric.ts'
import { processSingleton } from './process-singleton.ts'
import type { SendOptions } from './ref.ts'
import type { Duration } from './types.ts'

/** What the current run is: shown in logs and usable for idempotency keys. */
export interface RunInfo {
  readonly id: string
  /** 1 on the first attempt. */
  readonly attempt: number
  /** The deployed version of the business this run is pinned to. */
  readonly version?: string
  /** Handler, operation, saga or job name. */
  readonly name: string
  readonly kind: 'handler' | 'operation' | 'schedule' | 'saga' | 'composition' | 'agent' | 'endpoint'
  readonly correlationId?: string
}

/** Options of `ctx.step`. */
export interface StepOptions {
  /** Time limit of the step's function; exceeding it fails the run's attempt (which is retried). */
  readonly timeout?: Duration
}

/** Options of `waitForEvent`. */
export interface WaitForEventOptions<T = unknown> {
  /** Only an event whose payload satisfies this (a predicate or a partial payload to equal). */
  readonly match?: ((payload: T) => boolean) | Partial<Record<string, unknown>>
  /** Give up after this long and resolve `null`. */
  readonly timeout?: Duration
}

/** Options of calls to operations, sagas, compositions and agents. */
export interface CallOptions extends SendOptions {
  /** `'skip'` bypasses the operation's result cache for this call. */
  readonly cache?: 'skip'
}

/** One event as seen by `$.stream.subscribe` and `ctx.subscribe`. */
export interface EventEnvelope<T = unknown> {
  readonly id: string
  readonly name: string
  readonly data: T
  readonly at: string
}

/** The executable declarations a context can run by name. */
export type ExecutableKind = 'saga' | 'composition' | 'agent'

/** The tools of the running code. The runtime implements it; the sdk forwards to it. */
export interface Context {
  /** The run this code belongs to; `undefined` outside a run (e.g. in an HTTP endpoint). */
  readonly run?: RunInfo
  /** Aborted when the run's attempt times out or the runtime stops; pass it to fetch and friends. */
  readonly signal?: AbortSignal
  /** Publish an event, or call the operation that implements this verb. */
  send(event: string, payload: unknown, options?: SendOptions): Promise<unknown>
  /** Call an operation of a service by service name or key. */
  call(service: string, operation: string, input: unknown, options?: CallOptions): Promise<unknown>
  /** Run a saga, composition or agent declared in the business. */
  execute(kind: ExecutableKind, name: string, input: unknown, options?: CallOptions): Promise<unknown>
  /** A durable step: its result is stored, and a retried or resumed run reuses it. */
  step<T>(name: string, fn: () => T | Promise<T>, options?: StepOptions): Promise<Awaited<T>>
  sleep(duration: Duration): Promise<void>
  sleepUntil(when: Date | number | string): Promise<void>
  waitForEvent<T = unknown>(event: string, options?: WaitForEventOptions<T>): Promise<T | null>
  readonly db: Db
  readonly ai: Ai
  readonly log: Logger
  /** The live recorder of a declared metric. */
  metric(definition: MetricDefinition): MetricRecorder
  readonly cache: CacheControl
  subscribe(pattern: string): AsyncIterable<EventEnvelope>
}

const storage = processSingleton('context', () => new AsyncLocalStorage<Context>())

/** The context bound here, or `undefined`. */
export const currentContext = (): Context | undefined => storage.getStore()

/**
 * The context bound here; throws `NoRuntimeError` naming `what` when there is none.
 *
 * @example
 * current('send()').send('Order.created', order)
 */
export function current(what: string): Context {
  const context = storage.getStore()
  if (!context) throw new NoRuntimeError(what)
  return context
}

/**
 * Run `fn` with `context` as the ambient context (used by the runtime, not by businesses).
 *
 * @example
 * bindContext(runContext, () => handler(payload, runContext))
 */
export function bindContext<T>(context: Context, fn: () => T): T {
  return storage.run(context, fn)
}
