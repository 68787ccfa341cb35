/**
 * The context of code that runs outside any run: `rt.send` callers, `rt.run(fn)`, and (later)
 * HTTP endpoints. Sends and calls are stored and run durably; there is no replay here, so a
 * step just runs its function and `sleep` just waits.
 *
 * @example
 * await rt.run(async () => send($.Order.created, order))
 */
import type {
  Ai,
  CacheControl,
  CallOptions,
  Context,
  Db,
  Duration,
  EventEnvelope,
  ExecutableKind,
  Logger,
  MetricDefinition,
  MetricRecorder,
  SendOptions,
  WaitForEventOptions,
} from '@bac/sdk'
import { eventName, toMilliseconds } from '@bac/sdk/internal'
import { aiFunctions } from './ai/ai-functions.ts'
import type { Invocable } from './catalog.ts'
import { DocumentDb } from './db/document-db.ts'
import type { Engine } from './engine.ts'
import { RuntimeStateError, UnknownOperationError } from './errors.ts'
import { newId } from './ids.ts'
import { subscription } from './run-context.ts'
import { traceOf } from './telemetry/tracing.ts'

export class OutsideContext implements Context {
  readonly log: Logger

  constructor(private readonly engine: Engine) {
    this.log = engine.log
  }

  private documents?: DocumentDb

  get db(): Db {
    this.documents ??= new DocumentDb(this.engine, this.engine.catalog, { write: (_what, work) => work(newId()) })
    return this.documents
  }

  private functions?: Ai

  /** Outside a run, calls are not stored (there is no run to replay); the answer cache still applies. */
  get ai(): Ai {
    this.functions ??= aiFunctions(
      (work) => work(async (request) => (await this.engine.ai.complete(request)).response),
      async () => {
        throw new RuntimeStateError('ai.agentic() runs durably, turn by turn: call it in a handler or operation')
      },
    )
    return this.functions
  }

  get cache(): CacheControl {
    return this.engine.cache.control
  }

  metric(definition: MetricDefinition): MetricRecorder {
    return this.engine.metrics.recorder(definition)
  }

  async execute(kind: ExecutableKind, name: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.invoke(this.engine.catalog.executable(kind, name), input, options)
  }

  subscribe(pattern: string): AsyncIterable<EventEnvelope> {
    return subscription(this.engine, pattern)
  }

  async send(event: string, payload: unknown, options: SendOptions = {}): Promise<unknown> {
    const name = eventName(event, 'send()')
    const operation = this.engine.catalog.operationForVerb(name, options.version)
    if (operation) return this.invoke(operation, payload, options)
    const trace = traceOf()
    return this.engine.publish(name, payload, options, trace ? { trace } : {})
  }

  async call(service: string, operation: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    const resolved = this.engine.catalog.operation(service, operation, options.version)
    if (resolved.operation.internal) {
      throw new UnknownOperationError(`${resolved.service.key}.${operation} is internal to ${resolved.service.name}`)
    }
    return this.invoke(resolved, input, options)
  }

  async step<T>(_name: string, fn: () => T | Promise<T>): Promise<Awaited<T>> {
    return (await fn()) as Awaited<T>
  }

  sleep(duration: Duration): Promise<void> {
    const ms = toMilliseconds(duration, 'sleep()')
    return new Promise((resolve) => this.engine.clock.setTimer(resolve, ms))
  }

  sleepUntil(when: Date | number | string): Promise<void> {
    const at = new Date(when).getTime()
    return new Promise((resolve) => this.engine.clock.setTimer(resolve, Math.max(0, at - this.engine.clock.now())))
  }

  waitForEvent<T>(event: string, _options?: WaitForEventOptions<T>): Promise<T | null> {
    throw new RuntimeStateError(
      `waitForEvent('${event}') waits durably, so it needs a run: call it in a handler or operation`,
    )
  }

  private async invoke(target: Invocable, input: unknown, options: SendOptions): Promise<unknown> {
    const trace = traceOf()
    const outcome = await this.engine.invoke(target, input, options, { inline: true, ...(trace ? { trace } : {}) })
    if (outcome.state === 'completed') return outcome.value
    if (outcome.state === 'failed') throw outcome.error
    return this.engine.awaitRun(outcome.runId)
  }
}
