/**
 * The `Context` of one execution of a run — what handlers get as `ctx` and what the ambient
 * `send`, `step`, `sleep`... resolve to. It replays: every step, sleep, wait and call has a
 * key (`charge`, `$sleep#1`, `$call#2`) and a stored result; on a retry or after a crash the
 * stored result is returned instead of doing the work again.
 *
 * When the run must wait — a sleep not yet over, an event not yet sent, a called operation
 * still retrying — the context records why and hands the code a promise that never settles
 * (so a user's try/catch cannot swallow it); the executor then suspends the run, and a later
 * execution replays to the same point and carries on.
 *
 * @example
 * const ctx = new RunContext(engine, run, await store.steps(run.id))
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
import { matches, normalizePattern, refPath, toMilliseconds } from '@bac/sdk/internal'
import type { ResolvedOperation } from './catalog.ts'
import type { Engine } from './engine.ts'
import { RuntimeStateError, UnknownOperationError } from './errors.ts'
import { deterministicId } from './ids.ts'
import { NEVER } from './store/kysely-store.ts'
import type { RunRecord, StepRecord, Wait } from './store/store.ts'
import { withTimeLimit } from './time-limit.ts'

export interface Suspension {
  readonly wait: Wait
  readonly availableAt: number
}

/** The never-settling promise handed to code that must wait. */
const pause = <T>(): Promise<T> => new Promise<T>(() => {})

/** Features that arrive with later parts of the runtime; until then, a clear error. */
export function unavailable(feature: string): never {
  throw new RuntimeStateError(`${feature} is not available in this runtime yet`)
}

export class RunContext implements Context {
  readonly run: RunInfo
  readonly signal: AbortSignal
  readonly log: Logger
  suspension?: Suspension
  /** Resolves when the code asks to suspend. */
  readonly suspended: Promise<void>
  private signalSuspended!: () => void
  private readonly results = new Map<string, unknown>()
  private readonly occurrences = new Map<string, number>()
  private readonly counters = { send: 0, call: 0, sleep: 0, wait: 0 }
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly controller = new AbortController()

  constructor(
    private readonly engine: Engine,
    readonly record: RunRecord,
    steps: readonly StepRecord[],
    /** The service the running code belongs to: its internal operations are callable. */
    readonly service?: string,
  ) {
    for (const step of steps) this.results.set(step.key, step.result)
    this.run = {
      id: record.id,
      attempt: record.attempt,
      name: record.name,
      kind: record.kind === 'schedule' ? 'schedule' : record.kind,
      ...(record.version ? { version: record.version } : {}),
      ...(record.correlationId ? { correlationId: record.correlationId } : {}),
    }
    this.signal = this.controller.signal
    this.log = engine.log.child({
      run: record.id,
      name: record.name,
      attempt: record.attempt,
      correlation: record.correlationId,
    })
    this.suspended = new Promise<void>((resolve) => {
      this.signalSuspended = resolve
    })
  }

  /** Abort the code's signal (timeout, stop). */
  abort(reason: unknown): void {
    this.controller.abort(reason)
  }

  /** Wait for step functions still running, so what they finish is stored before suspending. */
  async settleSteps(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  get db(): Db {
    return unavailable('db')
  }

  get ai(): Ai {
    return unavailable('ai')
  }

  get cache(): CacheControl {
    return unavailable('the result cache')
  }

  metric(_definition: MetricDefinition): MetricRecorder {
    return unavailable('metrics')
  }

  execute(kind: ExecutableKind, name: string, _input: unknown, _options?: CallOptions): Promise<unknown> {
    return unavailable(`running ${kind} "${name}"`)
  }

  subscribe(pattern: string): AsyncIterable<EventEnvelope> {
    return subscription(this.engine, pattern)
  }

  async step<T>(name: string, fn: () => T | Promise<T>, options: StepOptions = {}): Promise<Awaited<T>> {
    if (typeof name !== 'string' || name === '' || name.startsWith('$')) {
      throw new TypeError(`step(): a step needs a name that does not start with $, got ${JSON.stringify(name)}`)
    }
    const key = this.occurrence(name)
    if (this.results.has(key)) return this.results.get(key) as Awaited<T>
    if (this.suspension) return pause<Awaited<T>>()
    const startedAt = this.engine.clock.now()
    const timeout =
      options.timeout === undefined ? undefined : toMilliseconds(options.timeout, `step('${name}') timeout`)
    const body = withTimeLimit(
      this.engine.clock,
      Promise.resolve().then(fn) as Promise<Awaited<T>>,
      timeout,
      `step "${name}"`,
    )
    this.inflight.add(body)
    try {
      const value = await body
      return (await this.save(key, value, startedAt)) as Awaited<T>
    } finally {
      this.inflight.delete(body)
    }
  }

  async send(event: string, payload: unknown, options: SendOptions = {}): Promise<unknown> {
    const name = refPath(event)
    const operation = this.engine.catalog.operationForVerb(name, options.version)
    if (operation) return this.callResolved(operation, payload, options)
    const id = deterministicId(this.record.id, 'send', ++this.counters.send)
    return this.engine.publish(name, payload, options, {
      id,
      sourceRunId: this.record.id,
      ...(this.record.correlationId ? { correlationId: this.record.correlationId } : {}),
    })
  }

  call(service: string, operation: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
    const resolved = this.engine.catalog.operation(service, operation, options.version)
    if (resolved.operation.internal && resolved.service.name !== this.service) {
      throw new UnknownOperationError(
        `${resolved.service.key}.${operation} is internal to ${resolved.service.name}; call a public operation instead`,
      )
    }
    return this.callResolved(resolved, input, options)
  }

  private async callResolved(target: ResolvedOperation, input: unknown, options: SendOptions): Promise<unknown> {
    const key = `$call#${++this.counters.call}`
    if (this.results.has(key)) return this.results.get(key)
    if (this.suspension) return pause()
    const startedAt = this.engine.clock.now()
    const outcome = await this.engine.invoke(target, input, options, {
      id: deterministicId(this.record.id, 'call', this.counters.call),
      parentId: this.record.id,
      ...(this.record.correlationId ? { correlationId: this.record.correlationId } : {}),
      inline: true,
    })
    if (outcome.state === 'failed') throw outcome.error
    if (outcome.state === 'running') return this.suspend({ kind: 'run', runId: outcome.runId }, NEVER)
    return this.save(key, outcome.value, startedAt)
  }

  sleep(duration: Duration): Promise<void> {
    const ms = toMilliseconds(duration, 'sleep()')
    return this.sleepTill((now) => now + ms)
  }

  sleepUntil(when: Date | number | string): Promise<void> {
    const at = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(when)
    if (Number.isNaN(at))
      throw new TypeError(`sleepUntil(): expected a Date, epoch ms or ISO date, got ${JSON.stringify(when)}`)
    return this.sleepTill(() => at)
  }

  private async sleepTill(until: (now: number) => number): Promise<void> {
    const key = `$sleep#${++this.counters.sleep}`
    if (this.results.has(key)) return
    if (this.suspension) return pause()
    const now = this.engine.clock.now()
    const wake = (await this.remember(`${key}:until`, () => until(now))) as number
    if (this.engine.clock.now() >= wake) {
      await this.save(key, null, now)
      return
    }
    return this.suspend({ kind: 'sleep', until: wake }, wake)
  }

  async waitForEvent<T = unknown>(event: string, options: WaitForEventOptions<T> = {}): Promise<T | null> {
    const pattern = normalizePattern(event, 'waitForEvent()')
    const key = `$wait#${++this.counters.wait}`
    if (this.results.has(key)) return this.results.get(key) as T | null
    if (this.suspension) return pause()
    const now = this.engine.clock.now()
    const timeout =
      options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'waitForEvent() timeout')
    const from = (await this.remember(`${key}:from`, async () => ({
      afterSeq: await this.engine.store.lastEventSeq(),
      ...(timeout === undefined ? {} : { deadline: now + timeout }),
    }))) as { afterSeq: number; deadline?: number }
    const accept = acceptor(options.match)
    const names = pattern.includes('*') ? undefined : [pattern]
    let seq = from.afterSeq
    for (;;) {
      const batch = await this.engine.store.eventsAfter(names, seq, 500)
      for (const candidate of batch) {
        if (matches(pattern, candidate.name) && accept(candidate.payload as T)) {
          return (await this.save(key, candidate.payload, now)) as T
        }
      }
      seq = batch.at(-1)?.seq ?? seq
      if (batch.length < 500) break
    }
    if (from.deadline !== undefined && this.engine.clock.now() >= from.deadline) {
      return (await this.save(key, null, now)) as null
    }
    const wait = {
      kind: 'event' as const,
      pattern,
      afterSeq: seq,
      ...(from.deadline === undefined ? {} : { deadline: from.deadline }),
    }
    return this.suspend(wait, from.deadline ?? NEVER)
  }

  /** `name`, then `name#2`, `name#3`... for repeated step names in one execution. */
  private occurrence(name: string): string {
    const n = (this.occurrences.get(name) ?? 0) + 1
    this.occurrences.set(name, n)
    return n === 1 ? name : `${name}#${n}`
  }

  private async save(key: string, value: unknown, startedAt: number): Promise<unknown> {
    const stored = await this.engine.store.saveStep({
      runId: this.record.id,
      key,
      result: value,
      startedAt,
      finishedAt: this.engine.clock.now(),
    })
    this.results.set(key, stored.result)
    return stored.result
  }

  /** A value fixed the first time it is computed (when a sleep ends, where a wait starts). */
  private async remember(key: string, compute: () => unknown): Promise<unknown> {
    if (this.results.has(key)) return this.results.get(key)
    return this.save(key, await compute(), this.engine.clock.now())
  }

  private suspend<T>(wait: Wait, availableAt: number): Promise<T> {
    if (!this.suspension || availableAt < this.suspension.availableAt) this.suspension = { wait, availableAt }
    this.signalSuspended()
    return pause()
  }
}

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
