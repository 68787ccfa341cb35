/**
 * The `Context` of one execution of a run — what handlers get as `ctx` and what the ambient
 * `send`, `step`, `sleep`... resolve to. It replays: every step, sleep, wait and call has a
 * key (`charge`, `$sleep(60000ms)#1`, `$wait(Order.paid)#1`) and a stored result; on a retry or after a crash the
 * stored result is returned instead of doing the work again.
 *
 * Keys are scoped: the body of a step (and each saga action, compensation and composition
 * element) runs in a child context whose keys start with the step's own (`charge/$call(…)#1`). A
 * finished step is skipped on replay together with everything inside it, so the keys of what
 * follows never shift — a call made inside a step can never be mistaken for a later one.
 *
 * When the run must wait — a sleep not yet over, an event not yet sent, a called operation
 * still retrying — the context records why and hands that code a promise that never settles
 * (so a user's try/catch cannot swallow it). Other branches (`Promise.all`, `Promise.race`)
 * carry on; once nothing can move, the executor suspends the run with everything it waits
 * for, and a later execution replays to the same point and carries on.
 *
 * @example
 * const ctx = RunContext.root(engine, run, await store.steps(run.id))
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
  RunInfo,
  SendOptions,
  StepOptions,
  WaitForEventOptions,
} from '@bac/sdk'
import {
  agentDefinition,
  bindContext,
  currentContext,
  eventName,
  matches,
  normalizePattern,
  toMilliseconds,
} from '@bac/sdk/internal'
import type { Span } from '@opentelemetry/api'
import { runAgent } from './ai/agent-runner.ts'
import { aiFunctions, withContext } from './ai/ai-functions.ts'
import type { AIRequest, Completion } from './ai/ai-gateway.ts'
import type { ChatResponse } from './ai/provider.ts'
import type { Catalog, Invocable } from './catalog.ts'
import { DocumentDb, type StepStart } from './db/document-db.ts'
import { TransactionContext } from './db/transaction-context.ts'
import { digest } from './digest.ts'
import type { Engine } from './engine.ts'
import { fromErrorInfo, toErrorInfo, UnknownOperationError, UnstorableValueError } from './errors.ts'
import { deterministicId } from './ids.ts'
import { failure, isFailure, recorded } from './recorded-failure.ts'
import { NEVER } from './store/kysely-store.ts'
import type { ErrorInfo, RunRecord, StepRecord, Wait } from './store/store.ts'
import { endSpan, startStepSpan, traceOf, withSpan } from './telemetry/tracing.ts'
import { withTimeLimit } from './time-limit.ts'

/** Why and until when the run waits: it wakes at `availableAt` or when any of `waits` happens. */
export interface Suspension {
  readonly waits: readonly Wait[]
  readonly availableAt: number
}

/** A unit's function in flight; `suspended` once something inside it waits. */
interface Body {
  readonly promise: Promise<unknown>
  suspended: boolean
  /** Settles once the unit is over: its function ended and its result is stored (or failed). */
  readonly over: Promise<void>
}

/** A stored attempt of a unit that records failures too (saga actions): its value or its error. */
export type Attempt =
  | { readonly ok: true; readonly value: unknown }
  /** `setAside`: a replay of the run's dead letter asked for this failure to be tried past. */
  | { readonly ok: false; readonly error: ErrorInfo; readonly setAside?: boolean }

/** The key of a stored model call (`$model#1`, `turn-2/$model#1`). */
const MODEL_CALL = /(^|\/)\$model#\d+$/

/** The never-settling promise handed to code that must wait. */
const pause = <T>(): Promise<T> => new Promise<T>(() => {})

/** What every scope of one execution shares. */
class Execution {
  suspension?: Suspension
  readonly suspended: Promise<void>
  signalSuspended!: () => void
  /** Resolves at the next suspension or finished wait/sleep/call (each replaces it), for `settleSteps`. */
  nextChange: Promise<void>
  /** Waits, sleeps and calls under way that have neither finished nor suspended. */
  pending = 0
  private signalNext!: () => void
  readonly results = new Map<string, unknown>()
  readonly inflight = new Set<Body>()
  readonly controller = new AbortController()

  constructor(
    readonly engine: Engine,
    readonly catalog: Catalog,
    readonly record: RunRecord,
    steps: readonly StepRecord[],
    /** The span of this execution: steps are its children, what the run sends carries it. */
    readonly span: Span | undefined,
  ) {
    for (const step of steps) this.results.set(step.key, step.result)
    this.suspended = new Promise<void>((resolve) => {
      this.signalSuspended = resolve
    })
    this.nextChange = this.armNext()
  }

  /** A wait, sleep or call starts; call the returned function once it has finished or suspended. */
  begin(): () => void {
    this.pending++
    this.progress++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.pending--
      this.changed()
    }
  }

  /** Wait for `wait` too; the run becomes runnable at the earliest time or first event. */
  suspend(wait: Wait, availableAt: number): void {
    const waits = this.suspension?.waits ?? []
    this.suspension = {
      waits: waits.some((w) => JSON.stringify(w) === JSON.stringify(wait)) ? waits : [...waits, wait],
      availableAt: Math.min(availableAt, this.suspension?.availableAt ?? availableAt),
    }
    this.signalSuspended()
    this.changed()
  }

  /** Counts what the code did (units begun and ended, waits begun, ended or suspended). */
  progress = 0

  /** Something the code did: a unit or wait began or ended. */
  changed(): void {
    this.progress++
    const signal = this.signalNext
    this.nextChange = this.armNext()
    signal()
  }

  /** Settles once the attempt is over (aborted: timed out, suspended, stopped, lease lost). */
  readonly ended = new Promise<void>((resolve) => {
    if (this.controller.signal.aborted) resolve()
    else this.controller.signal.addEventListener('abort', () => resolve(), { once: true })
  })

  /** Once the attempt is over (timed out, stopped, lease lost), its code may not do anything more. */
  get over(): boolean {
    return this.controller.signal.aborted
  }

  private armNext(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.signalNext = resolve
    })
  }
}

export class RunContext implements Context {
  readonly run: RunInfo
  readonly signal: AbortSignal
  readonly log: Logger
  private readonly occurrences = new Map<string, number>()
  private readonly counters = { ai: 0, model: 0, agentic: 0 }
  /** How many sleeps, waits, calls and sends of each kind and target this scope has begun. */
  private readonly begun = new Map<string, number>()
  private documents?: DocumentDb
  private functions?: Ai

  private constructor(
    private readonly execution: Execution,
    /** Key prefix of this scope: '' at the root, `charge/` inside step "charge". */
    private readonly prefix: string,
    /** The service the running code belongs to: its internal operations are callable. */
    readonly service: string | undefined,
    /** The unit whose function this scope runs, and the scope around it. */
    private readonly body?: Body,
    private readonly parent?: RunContext,
  ) {
    const { record, engine } = execution
    this.run = {
      id: record.id,
      attempt: record.attempt,
      name: record.name,
      kind: record.kind,
      ...(record.version ? { version: record.version } : {}),
      ...(record.correlationId ? { correlationId: record.correlationId } : {}),
    }
    this.signal = execution.controller.signal
    this.log = engine.log.child({
      run: record.id,
      kind: record.kind,
      name: record.name,
      attempt: record.attempt,
      correlation: record.correlationId,
      ...(service ? { service } : {}),
      ...(record.kind === 'operation' ? { operation: record.name.split('@')[0] } : {}),
    })
  }

  static root(
    engine: Engine,
    catalog: Catalog,
    record: RunRecord,
    steps: readonly StepRecord[],
    service?: string,
    span?: Span,
  ): RunContext {
    return new RunContext(new Execution(engine, catalog, record, steps, span), '', service)
  }

  get record(): RunRecord {
    return this.execution.record
  }

  /**
   * The scope that is running now. Code may hold on to an outer `ctx` and use it inside a step;
   * its keys must still be the step's, or a replay (which skips the step) would shift them.
   */
  private get active(): RunContext | TransactionContext {
    const bound = currentContext()
    // Inside db.transaction, a held ctx means the transaction too: its db, and its refusals.
    if (bound instanceof TransactionContext) return bound
    return bound instanceof RunContext && bound.execution === this.execution ? bound : this
  }

  /** The span of this execution of the run. */
  get span(): Span | undefined {
    return this.execution.span
  }

  get suspension(): Suspension | undefined {
    return this.execution.suspension
  }

  /** Resolves when the code asks to suspend. */
  get suspended(): Promise<void> {
    return this.execution.suspended
  }

  /** Abort the code's signal (timeout, stop). */
  abort(reason: unknown): void {
    this.execution.controller.abort(reason)
  }

  /**
   * Wait for step functions still running, so what they finish is stored before suspending —
   * except those that are themselves waiting (a call or sleep inside a step): they resume on replay.
   * With `orUntilOver`, stop waiting once the attempt is over (its time limit struck).
   */
  async settleSteps(options: { readonly orUntilOver?: boolean } = {}): Promise<void> {
    const execution = this.execution
    const ended = options.orUntilOver ? [execution.ended] : []
    for (;;) {
      const running = [...execution.inflight].filter((body) => !body.suspended)
      if (running.length === 0 && execution.pending === 0) return
      if (options.orUntilOver && execution.over) return
      // Wait for the units to be over, not only their functions: one whose function has ended
      // stays in flight while its result is stored, and waiting on its settled promise again
      // and again would spin without ever letting that write finish.
      const bodies = running.length > 0 ? [Promise.race(running.map((b) => b.over))] : []
      await Promise.race([...bodies, execution.nextChange, ...ended])
    }
  }

  /** What the code has done so far (see `Execution.progress`). */
  get progress(): number {
    return this.execution.progress
  }

  get db(): Db {
    const active = this.active
    if (active !== this) return active.db
    const { engine, catalog, record } = this.execution
    this.documents ??= new DocumentDb(engine, catalog, {
      ...(this.service ? { service: this.service } : {}),
      owned: true,
      write: (what, work) => this.durableWrite(what, work),
      sourceRunId: record.id,
      ...(record.correlationId ? { correlationId: record.correlationId } : {}),
      trace: () => traceOf(this.execution.span),
    })
    return this.documents
  }

  /**
   * A db write (or `db.transaction`) as a durable unit: committed once, in one transaction with
   * its step record — so a crash at any point neither loses it nor applies it twice — its ids
   * derived from its key, and its result replayed.
   */
  private async durableWrite<T>(what: string, work: (id: string, step: StepStart) => Promise<T>): Promise<T> {
    // Keyed by what it writes, not by position alone: branches side by side reach their writes
    // in another order on a replay (what is stored answers at once).
    const key = this.nth(`$db(${what})`)
    const { results, engine, record } = this.execution
    if (results.has(key)) {
      const stored = results.get(key)
      if (isFailure(stored)) throw recorded(stored, key)
      return stored as T
    }
    if (this.execution.over) return pause()
    const done = this.execution.begin()
    const startedAt = engine.clock.now()
    let value: T
    try {
      value = await work(deterministicId(record.id, key, 0), { runId: record.id, key, startedAt })
      results.set(key, value)
    } catch (error) {
      const thrown = error instanceof UnstorableValueError ? error.about('the result of a db write') : error
      if (this.execution.over) throw thrown
      // Recorded, so that a replay meets it here again (see recorded-failure.ts); if recording
      // fails too, the store is out of reach and the attempt fails with the first error.
      const stored = await this.save(key, failure(thrown), startedAt).catch(() => {
        throw thrown
      })
      if (isFailure(stored)) throw recorded(thrown, key)
      return stored as T // another execution wrote it meanwhile: its result is this write's
    } finally {
      done()
    }
    // Another execution recorded this write first, as a failure: that is its outcome.
    if (isFailure(value)) throw recorded(value, key)
    return value
  }

  get ai(): Ai {
    const active = this.active
    if (active !== this) return active.ai
    this.functions ??= aiFunctions(
      <T>(work: (ask: (request: AIRequest) => Promise<ChatResponse>) => Promise<T>) =>
        this.unit(`$ai#${++this.counters.ai}`, (scope) => work((request) => scope.askModel(request))) as Promise<T>,
      (options) => this.agentic(options),
    )
    return this.functions
  }

  /**
   * One model call as a durable unit: answered once, its answer, tokens and cost stored (the
   * run's step record), and replayed from there — a retried run is not billed twice. `budget`
   * (an agent's) can only tighten the runtime's per-run budget.
   */
  async askModel(request: AIRequest, budget?: number): Promise<ChatResponse> {
    const key = `${this.prefix}$model#${++this.counters.model}`
    const { results, engine } = this.execution
    if (results.has(key)) return (results.get(key) as Completion).response
    if (this.execution.over) return pause()
    const done = this.execution.begin()
    const span = startStepSpan(this.execution.span, 'ai')
    let failure: unknown
    try {
      const startedAt = engine.clock.now()
      const limits = [budget, engine.ai.settings.budget.run].filter((b): b is number => b !== undefined)
      const completion = await engine.ai.complete(
        { ...request, signal: this.signal },
        {
          ...(this.service ? { service: this.service } : {}),
          run: { spent: this.aiSpent(), ...(limits.length > 0 ? { budget: Math.min(...limits) } : {}) },
        },
      )
      const { response, model, usage, cost, cached } = completion
      span.setAttributes({
        'bac.ai.model': model,
        'bac.ai.input_tokens': usage.inputTokens,
        'bac.ai.output_tokens': usage.outputTokens,
        'bac.ai.cost_usd': cost,
      })
      // What the store kept (another worker's, should two have raced) is the answer.
      const stored = await this.save(key, { response, model, usage, cost, cached }, startedAt, 'an AI call')
      return (stored as Completion).response
    } catch (error) {
      failure = error
      throw error
    } finally {
      endSpan(span, failure)
      done()
    }
  }

  /** What this run's AI calls have cost so far (from its stored calls). */
  private aiSpent(): number {
    let spent = 0
    for (const [key, value] of this.execution.results) {
      if (MODEL_CALL.test(key)) spent += (value as Partial<Completion>).cost ?? 0
    }
    return spent
  }

  /** `ai.agentic({ goal, tools })`: an agent made on the spot, with this service's operations as tools. */
  private agentic(options: Parameters<Ai['agentic']>[0]): Promise<unknown> {
    const { goal, context, tools = [], maxTurns = 10, model, instructions } = options
    const service = this.execution.catalog.service(this.service)
    const definition = agentDefinition(
      {
        name: 'agentic',
        instructions:
          instructions ?? 'Reach the goal you are given, using your tools. When done, answer with the outcome.',
        tools,
        maxTurns,
        ...(model ? { model } : {}),
      },
      'ai.agentic()',
      service?.operations ?? [],
    )
    return this.unit(`$agentic#${++this.counters.agentic}`, (scope) =>
      runAgent(definition, withContext(goal, context), scope),
    )
  }

  get cache(): CacheControl {
    return this.execution.engine.cache.control
  }

  /** A business metric. Recorded as the code runs: an attempt that is retried records again. */
  metric(definition: MetricDefinition): MetricRecorder {
    return this.execution.engine.metrics.recorder(definition)
  }

  subscribe(pattern: string): AsyncIterable<EventEnvelope> {
    return subscription(this.execution.engine, pattern)
  }

  async step<T>(name: string, fn: () => T | Promise<T>, options: StepOptions = {}): Promise<Awaited<T>> {
    const active = this.active
    if (active !== this) return active.step(name, fn, options)
    if (typeof name !== 'string' || name === '' || name.startsWith('$') || /[/#]/.test(name)) {
      throw new TypeError(
        `step(): a step needs a name without "/" or "#" that does not start with $, got ${JSON.stringify(name)}`,
      )
    }
    const timeout =
      options.timeout === undefined ? undefined : toMilliseconds(options.timeout, `step('${name}') timeout`)
    return (await this.unit(this.occurrence(name), () => fn(), { timeout, what: `step "${name}"` })) as Awaited<T>
  }

  /**
   * The durable unit under steps, saga actions and composition elements: `fn` runs once, in its
   * own scope (bound as the ambient context), and its result is stored under `key`.
   */
  async unit(
    key: string,
    fn: (scope: RunContext) => unknown,
    options: { readonly timeout?: number; readonly what?: string } = {},
  ): Promise<unknown> {
    const full = this.prefix + key
    const { results, engine, inflight } = this.execution
    if (results.has(full)) return results.get(full)
    if (this.execution.over) return pause()
    const startedAt = engine.clock.now()
    const began = performance.now()
    const span = startStepSpan(this.execution.span, full)
    let over: () => void = () => {}
    const body: { promise: Promise<unknown>; suspended: boolean; over: Promise<void> } = {
      promise: Promise.resolve(),
      suspended: false,
      over: new Promise<void>((resolve) => {
        over = resolve
      }),
    }
    const scope = new RunContext(this.execution, `${full}/`, this.service, body, this)
    body.promise = withTimeLimit(
      engine.clock,
      Promise.resolve().then(() => bindContext(scope, () => withSpan(span, () => fn(scope)))),
      options.timeout,
      options.what ?? `"${key}"`,
    )
    inflight.add(body)
    this.execution.changed()
    let failure: unknown
    try {
      const value = await this.save(full, await body.promise, startedAt, options.what ?? `"${key}"`)
      engine.emitter.emit('step', { run: this.record, name: full, seconds: (performance.now() - began) / 1000 })
      return value
    } catch (error) {
      failure = error
      throw error
    } finally {
      inflight.delete(body)
      over()
      this.execution.changed()
      endSpan(span, failure)
    }
  }

  /** Like `unit`, but a failure is stored too, as a settled attempt that replays as the same failure. */
  async attempt(key: string, fn: (scope: RunContext) => unknown, timeout?: number): Promise<Attempt> {
    const full = this.prefix + key
    const { results, engine } = this.execution
    if (results.has(full)) return results.get(full) as Attempt
    if (this.execution.over) return pause()
    const startedAt = engine.clock.now()
    let outcome: Attempt
    try {
      outcome = {
        ok: true,
        value: await this.unit(`${key}:run`, fn, { ...(timeout ? { timeout } : {}), what: `"${key}"` }),
      }
    } catch (error) {
      if (this.execution.over) return pause()
      outcome = { ok: false, error: toErrorInfo(error) }
    }
    return (await this.save(full, outcome, startedAt)) as Attempt
  }

  async send(event: string, payload: unknown, options: SendOptions = {}): Promise<unknown> {
    const active = this.active
    if (active !== this) return active.send(event, payload, options)
    if (this.execution.over) return pause()
    const name = eventName(event, 'send()')
    const operation = this.execution.catalog.operationForVerb(name, options.version, this.service)
    if (operation) return this.invoke(operation, payload, options)
    const { record, engine } = this.execution
    const id = deterministicId(record.id, this.nth(`$send(${name}:${digest(payload)})`), 0)
    const trace = traceOf(this.execution.span)
    return engine.publish(name, payload, options, {
      id,
      sourceRunId: record.id,
      ...(record.correlationId ? { correlationId: record.correlationId } : {}),
      ...(trace ? { trace } : {}),
    })
  }

  async call(service: string, operation: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    const active = this.active
    if (active !== this) return active.call(service, operation, input, options)
    const resolved = this.execution.catalog.operation(service, operation, options.version)
    if (resolved.operation.internal && resolved.service.name !== this.service) {
      throw new UnknownOperationError(
        `${resolved.service.key}.${operation} is internal to ${resolved.service.name}; call a public operation instead`,
      )
    }
    return this.invoke(resolved, input, options)
  }

  async execute(kind: ExecutableKind, name: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    const active = this.active
    if (active !== this) return active.execute(kind, name, input, options)
    return this.invoke(this.execution.catalog.executable(kind, name), input, options)
  }

  /** A child run (operation, saga, composition): created once, run inline when possible, awaited durably. */
  private async invoke(target: Invocable, input: unknown, options: SendOptions): Promise<unknown> {
    const key = this.nth(`$call(${target.runName}:${digest(input)})`)
    const { results } = this.execution
    if (results.has(key)) return results.get(key)
    if (this.execution.over) return pause()
    const done = this.execution.begin()
    try {
      return await this.invokeNew(target, input, options, key, done)
    } finally {
      done()
    }
  }

  private async invokeNew(
    target: Invocable,
    input: unknown,
    options: SendOptions,
    key: string,
    done: () => void,
  ): Promise<unknown> {
    const { engine, record } = this.execution
    const startedAt = engine.clock.now()
    const trace = traceOf(this.execution.span)
    const outcome = await engine.invoke(target, input, options, {
      ...(trace ? { trace } : {}),
      id: deterministicId(record.id, key, 0),
      mayExist: record.attempt > 1,
      parentId: record.id,
      ...(record.correlationId ? { correlationId: record.correlationId } : {}),
      ...(record.version ? { version: record.version } : {}),
      inline: true,
    })
    if (outcome.state === 'failed') throw outcome.error
    if (outcome.state === 'running') return this.suspend({ kind: 'run', runId: outcome.runId }, NEVER, done)
    return this.save(key, outcome.value, startedAt)
  }

  sleep(duration: Duration): Promise<void> {
    const active = this.active
    if (active !== this) return active.sleep(duration)
    const ms = toMilliseconds(duration, 'sleep()')
    return this.sleepTill(`${ms}ms`, (now) => now + ms)
  }

  sleepUntil(when: Date | number | string): Promise<void> {
    const active = this.active
    if (active !== this) return active.sleepUntil(when)
    const at = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(when)
    if (Number.isNaN(at))
      throw new TypeError(`sleepUntil(): expected a Date, epoch ms or ISO date, got ${JSON.stringify(when)}`)
    return this.sleepTill(new Date(at).toISOString(), () => at)
  }

  private async sleepTill(spec: string, until: (now: number) => number): Promise<void> {
    const key = this.nth(`$sleep(${spec})`)
    const { results, engine } = this.execution
    if (results.has(key)) return
    if (this.execution.over) return pause()
    const done = this.execution.begin()
    try {
      const now = engine.clock.now()
      const wake = (await this.remember(`${key}:until`, () => until(now))) as number
      if (engine.clock.now() >= wake) {
        await this.save(key, null, now)
        return
      }
      return this.suspend({ kind: 'sleep', until: wake }, wake, done)
    } finally {
      done()
    }
  }

  async waitForEvent<T = unknown>(event: string, options: WaitForEventOptions<T> = {}): Promise<T | null> {
    const active = this.active
    if (active !== this) return active.waitForEvent(event, options)
    const pattern = normalizePattern(event, 'waitForEvent()')
    const key = this.nth(`$wait(${pattern})`)
    const { results } = this.execution
    if (results.has(key)) return results.get(key) as T | null
    if (this.execution.over) return pause()
    const done = this.execution.begin()
    try {
      return await this.awaitEvent(key, pattern, options, done)
    } finally {
      done()
    }
  }

  private async awaitEvent<T>(
    key: string,
    pattern: string,
    options: WaitForEventOptions<T>,
    done: () => void,
  ): Promise<T | null> {
    const { engine } = this.execution
    const now = engine.clock.now()
    const timeout =
      options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'waitForEvent() timeout')
    const from = (await this.remember(`${key}:from`, async () => ({
      afterSeq: await engine.store.lastEventSeq(),
      ...(timeout === undefined ? {} : { deadline: now + timeout }),
    }))) as { afterSeq: number; deadline?: number }
    const accept = acceptor(options.match)
    const names = pattern.includes('*') ? undefined : [pattern]
    let seq = from.afterSeq
    for (;;) {
      const batch = await engine.store.eventsAfter(names, seq, 500)
      for (const candidate of batch) {
        if (matches(pattern, candidate.name) && accept(candidate.payload as T)) {
          return (await this.save(key, candidate.payload, now)) as T
        }
      }
      seq = batch.at(-1)?.seq ?? seq
      if (batch.length < 500) break
    }
    if (from.deadline !== undefined && engine.clock.now() >= from.deadline) {
      return (await this.save(key, null, now)) as null
    }
    const wait = {
      kind: 'event' as const,
      pattern,
      afterSeq: seq,
      ...(from.deadline === undefined ? {} : { deadline: from.deadline }),
    }
    return this.suspend(wait, from.deadline ?? NEVER, done)
  }

  /**
   * The key of a sleep, wait, call or send: what it is (`$wait(Order.paid)`, `$call(Billing.charge:<input digest>)`),
   * then which of those this scope has begun (`#1`, `#2`...). Keyed by what, not by position
   * alone, branches running side by side (`Promise.all`) keep their keys however their I/O
   * interleaves when the run is replayed.
   */
  private nth(what: string): string {
    const n = (this.begun.get(what) ?? 0) + 1
    this.begun.set(what, n)
    return `${this.prefix}${what}#${n}`
  }

  /** `name`, then `name#2`, `name#3`... for repeated step names in one scope. */
  private occurrence(name: string): string {
    const n = (this.occurrences.get(name) ?? 0) + 1
    this.occurrences.set(name, n)
    return n === 1 ? name : `${name}#${n}`
  }

  private async save(key: string, value: unknown, startedAt: number, what = `"${key}"`): Promise<unknown> {
    const { engine, record, results } = this.execution
    try {
      const stored = await engine.store.saveStep({
        runId: record.id,
        key,
        result: value,
        startedAt,
        finishedAt: engine.clock.now(),
      })
      results.set(key, stored.result)
      return stored.result
    } catch (error) {
      if (error instanceof UnstorableValueError) throw error.about(`the result of ${what}`)
      throw error
    }
  }

  /** A value fixed the first time it is computed (when a sleep ends, where a wait starts). */
  private async remember(key: string, compute: () => unknown): Promise<unknown> {
    const { results, engine } = this.execution
    if (results.has(key)) return results.get(key)
    return this.save(key, await compute(), engine.clock.now())
  }

  /** Record the wait, mark the enclosing units as waiting, and end the wait's pending count (`done`). */
  private suspend<T>(wait: Wait, availableAt: number, done: () => void): Promise<T> {
    for (let scope: RunContext | undefined = this; scope; scope = scope.parent)
      if (scope.body) scope.body.suspended = true
    this.execution.suspend(wait, availableAt)
    done()
    return pause()
  }
}

/** Rebuild a stored attempt's error to throw. */
export const attemptError = (attempt: Attempt & { ok: false }): Error => fromErrorInfo(attempt.error)

/** `match` as a predicate: a function, or a partial payload whose fields must be equal. */
function acceptor<T>(match: WaitForEventOptions<T>['match']): (payload: T) => boolean {
  if (match === undefined) return () => true
  if (typeof match === 'function') return match
  return (payload) =>
    Object.entries(match).every(
      ([field, want]) => JSON.stringify((payload as Record<string, unknown> | null)?.[field]) === JSON.stringify(want),
    )
}

/** Events published in this process from now on, as an async iterator. */
export function subscription(engine: Engine, pattern: string): AsyncIterable<EventEnvelope> {
  const normalized = normalizePattern(pattern, 'subscribe()')
  return {
    [Symbol.asyncIterator]() {
      const queue: EventEnvelope[] = []
      let notify: (() => void) | undefined
      const listener = (event: { id: string; name: string; payload: unknown; createdAt: number }) => {
        if (!matches(normalized, event.name)) return
        queue.push({ id: event.id, name: event.name, data: event.payload, at: new Date(event.createdAt).toISOString() })
        notify?.()
      }
      engine.emitter.on('published', listener)
      return {
        async next() {
          while (queue.length === 0) await new Promise<void>((resolve) => (notify = resolve))
          return { value: queue.shift() as EventEnvelope, done: false }
        },
        async return() {
          engine.emitter.off('published', listener)
          return { value: undefined, done: true }
        },
      }
    },
  }
}
