/**
 * The engine: what every part of a running business shares — store, clock, catalog, logger,
 * this worker's identity — and the two ways work enters the store: publishing an event (which
 * fans out to one run per matching handler, in the same transaction) and invoking an
 * operation (one run, executed inline when this worker can, awaited otherwise).
 *
 * @example
 * await engine.publish('Order.created', order, { idempotencyKey: order.id })
 */
import type { BusinessDefinition, Logger, PolicyOptions, SendOptions, ServiceDefinition } from '@bac/sdk'
import { validate } from '@bac/sdk/internal'
import { type AISettings, aiSettings } from './ai/ai-config.ts'
import { AIGateway } from './ai/ai-gateway.ts'
import { Catalog, type Invocable, type ResolvedOperation, unversioned } from './catalog.ts'
import type { Clock, Timer } from './clock/clock.ts'
import { documentEventKey } from './db/document-events.ts'
import { createEmitter, type Emitter } from './emitter.ts'
import { fromErrorInfo } from './errors.ts'
import { idempotencyKeyOf } from './idempotency-key.ts'
import { newId } from './ids.ts'
import { CircuitBreakers } from './policies/circuit-breaker.ts'
import { RateLimitError, RateLimiter } from './policies/rate-limiter.ts'
import { ResultCache } from './policies/result-cache.ts'
import {
  type EventRecord,
  FINAL_STATUSES,
  type NewEvent,
  type NewRun,
  type RunRecord,
  type Store,
} from './store/store.ts'
import { Metrics } from './telemetry/metrics.ts'

export type EngineEvents = {
  /** A run reached a final state. */
  settled: RunRecord
  /** An execution of a run begins. */
  started: RunRecord
  /** An execution of a run ended: how, and how long it took. */
  ended: {
    readonly run: RunRecord
    readonly outcome: 'completed' | 'waiting' | 'retrying' | 'failed' | 'compensated'
    readonly seconds: number
  }
  /** A step finished. */
  step: { readonly run: RunRecord; readonly name: string; readonly seconds: number }
  /** An event was stored. */
  published: EventRecord
  /** There may be work to claim. */
  work: undefined
}

export interface EngineOptions {
  readonly business: BusinessDefinition
  /** Policies every run gets unless its service, operation or handler says otherwise. */
  readonly defaults?: PolicyOptions
  readonly store: Store
  readonly clock: Clock
  readonly log: Logger
  readonly workerId: string
  readonly leaseMs: number
  readonly version?: string
  readonly random: () => number
  readonly ai?: AISettings
}

/** The outcome of an operation call: its result, its error, or still running. */
export type Outcome =
  | { readonly state: 'completed'; readonly value: unknown }
  | { readonly state: 'failed'; readonly error: Error }
  | { readonly state: 'running'; readonly runId: string }

export interface PublishOrigin {
  /** A fixed id: deterministic for sends made inside a run. */
  readonly id?: string
  readonly sourceRunId?: string
  readonly correlationId?: string
  /** The sender's trace context, carried to the runs the event creates. */
  readonly trace?: string
  /** A db write's change event: its payload is the document. */
  readonly document?: boolean
}

export interface InvokeOrigin {
  readonly id?: string
  readonly parentId?: string
  readonly correlationId?: string
  /** The definition version the run is pinned to (default: the active one). */
  readonly version?: string
  readonly trace?: string
  /** Run it in this worker now, when limits allow. */
  readonly inline: boolean
  /** `false` when a run with `id` cannot exist yet (its caller's first execution): no lookup. */
  readonly mayExist?: boolean
}

export class Engine {
  readonly store: Store
  readonly clock: Clock
  readonly log: Logger
  readonly workerId: string
  readonly leaseMs: number
  readonly random: () => number
  readonly defaults: PolicyOptions
  readonly breakers: CircuitBreakers
  readonly limiter: RateLimiter
  readonly cache: ResultCache
  readonly metrics: Metrics
  readonly ai: AIGateway
  /** Loaded definitions by version ('' for an unversioned one); runs execute on their own. */
  private readonly catalogs = new Map<string, Catalog>()
  private active = ''
  readonly emitter: Emitter<EngineEvents> = createEmitter<EngineEvents>()
  /** Whether any loaded operation caches results tagged with documents (db writes then invalidate them). */
  cachesByTag = false
  /** Per-run-name concurrency limits, from handler and operation options. */
  readonly limits = new Map<string, number>()
  /** Executes a run this worker has leased (set by the runtime). */
  execute: (run: RunRecord) => Promise<void> = async () => {
    throw new Error('the engine has no executor')
  }

  constructor(options: EngineOptions) {
    this.store = options.store
    this.clock = options.clock
    this.log = options.log
    this.workerId = options.workerId
    this.leaseMs = options.leaseMs
    this.random = options.random
    this.defaults = options.defaults ?? {}
    this.breakers = new CircuitBreakers(this.store.state, this.clock)
    this.limiter = new RateLimiter(this.store.state, this.clock)
    this.cache = new ResultCache(this.store.cache, this.clock)
    this.metrics = new Metrics({
      stats: () => this.store.stats(this.clock.now()),
      breakers: () => this.breakers.phases(),
    })
    this.ai = new AIGateway(options.ai ?? aiSettings({}, {}), {
      clock: this.clock,
      cache: this.cache,
      state: this.store.state,
      breakers: this.breakers,
      limiter: this.limiter,
      metrics: this.metrics,
      log: this.log,
    })
    this.activate(options.business, options.version)
  }

  /** The policies of an operation: the defaults, then its service's, then its own. */
  policiesOf(service: ServiceDefinition | undefined, own: PolicyOptions): PolicyOptions {
    return { ...this.defaults, ...(service?.policies ?? {}), ...own }
  }

  /** Load a definition and make it the one new runs use; runs pinned to others keep theirs. */
  activate(business: BusinessDefinition, version?: string): Catalog {
    const catalog = this.load(business, version)
    this.active = version ?? ''
    return catalog
  }

  /** Load a definition so runs pinned to its version can execute, without making it active. */
  load(business: BusinessDefinition, version?: string): Catalog {
    const catalog = new Catalog(business)
    // Declared metrics are scraped from the start, at zero, not only once first recorded.
    for (const metric of business.metrics) this.metrics.recorder(metric)
    this.catalogs.set(version ?? '', catalog)
    for (const handler of business.handlers) {
      const limit = this.policiesOf(catalog.service(handler.service), handler.options).concurrency?.limit
      if (limit !== undefined) this.limits.set(handler.name, limit)
    }
    for (const service of business.services) {
      for (const operation of service.operations) {
        if (this.policiesOf(service, operation.options).cache?.tags) this.cachesByTag = true
        const limit = this.policiesOf(service, operation.options).concurrency?.limit
        const runName = `${service.key}.${operation.name}${service.version ? `@${service.version}` : ''}`
        if (limit !== undefined) this.limits.set(runName, limit)
      }
    }
    return catalog
  }

  /** The active definition's catalog: where new runs go. */
  get catalog(): Catalog {
    return this.catalogs.get(this.active) as Catalog
  }

  get business(): BusinessDefinition {
    return this.catalog.business
  }

  /** The version new runs are pinned to (`undefined` when unversioned). */
  get version(): string | undefined {
    return this.active || undefined
  }

  /** The catalog of the version a run is pinned to; `undefined` when that code is not loaded here. */
  catalogFor(version: string | undefined): Catalog | undefined {
    return this.catalogs.get(version ?? '')
  }

  /** Versions this worker can execute, as stored on runs (`null`: unpinned). */
  get versions(): (string | null)[] {
    return [...this.catalogs.keys()].map((v) => v || null)
  }

  /** Store an event and its deliveries; resolves to the event's id (the first one's, for a duplicate). */
  async publish(
    name: string,
    payload: unknown,
    options: SendOptions = {},
    origin: PublishOrigin = {},
  ): Promise<string> {
    const { event: newEvent, runs } = this.delivery(name, payload, options, origin)
    const { event, duplicate } = await this.store.publish(newEvent, runs)
    if (!duplicate) this.announce(event)
    return event.id
  }

  /**
   * An event and the runs it fans out to (one per matching handler of the active definition),
   * checked against the event's schema — to store now, or in another write's transaction.
   */
  delivery(
    name: string,
    payload: unknown,
    options: SendOptions = {},
    origin: PublishOrigin = {},
  ): { readonly event: NewEvent; readonly runs: NewRun[] } {
    // A document's change event carries the document, shaped by its collection, not the event schema.
    const schema = origin.document ? undefined : this.business.events[name]
    const data = schema ? validate(schema, payload, `${name} payload`) : payload
    const idempotencyKey = idempotencyKeyOf(options) ?? documentEventKey(name, payload)
    const now = this.clock.now()
    const id = origin.id ?? newId()
    const correlationId = origin.correlationId ?? (options.correlationId as string | undefined) ?? id
    const availableAt = deliverAt(options.deliverAt, now)
    const runs: NewRun[] = this.catalog.handlersFor(name).map((handler) => {
      const { idempotencyKey, debounce } = handler.options
      const { concurrency, priority } = this.policiesOf(this.catalog.service(handler.service), handler.options)
      return {
        id: newId(),
        kind: 'handler',
        name: handler.name,
        input: data,
        eventId: id,
        idempotencyKey: idempotencyKey ? `key:${idempotencyKey(data)}` : `event:${id}`,
        ...(concurrency?.key ? { concurrencyKey: concurrency.key(data) } : {}),
        ...(priority === undefined ? {} : { priority }),
        availableAt: debounce ? availableAt + debounce.wait : availableAt,
        ...(debounce
          ? {
              debounce: {
                key: debounce.key ? debounce.key(data) : '',
                ...(debounce.maxWait === undefined ? {} : { maxWait: debounce.maxWait }),
              },
            }
          : {}),
        correlationId,
        ...(origin.trace ? { trace: origin.trace } : {}),
        ...(this.version ? { version: this.version } : {}),
      }
    })
    const event: NewEvent = {
      id,
      name,
      payload: data,
      ...(idempotencyKey ? { idempotencyKey } : {}),
      correlationId,
      ...(origin.sourceRunId ? { sourceRunId: origin.sourceRunId } : {}),
      createdAt: now,
    }
    return { event, runs }
  }

  /** Tell this process an event was stored: subscribers see it, and the dispatcher looks for work (if it made any). */
  announce(event: EventRecord | NewEvent, work = true): void {
    this.emitter.emit('published', { seq: 0, ...event } as EventRecord)
    if (work) this.emitter.emit('work', undefined)
  }

  /** Validate the input, store the run, and run it inline when allowed. */
  async invoke(target: Invocable, input: unknown, options: SendOptions, origin: InvokeOrigin): Promise<Outcome> {
    const data = target.checkInput ? target.checkInput(input) : input
    idempotencyKeyOf(options)
    // A call made before (by a caller replaying, or with a repeated idempotency key) gets that
    // run's outcome — before the cache or the rate limit are asked, so nothing is taken twice.
    const existing =
      origin.id && origin.mayExist !== false
        ? await this.store.getRun(origin.id)
        : options.idempotencyKey
          ? await this.store.findRun(target.runName, options.idempotencyKey)
          : undefined
    if (existing) return outcomeOf(existing)
    const policies =
      target.kind === 'operation'
        ? this.policiesOf((target as ResolvedOperation).service, (target as ResolvedOperation).operation.options)
        : {}
    const cached =
      policies.cache && (options as { cache?: unknown }).cache !== 'skip'
        ? await this.cache.get(this.cache.keyFor(target.runName, policies.cache, data))
        : undefined
    if (cached) return { state: 'completed', value: cached.value }
    const limit = policies.rateLimit
    if (limit?.onLimit === 'fail') {
      const key = `${unversioned(target.runName)}:${limit.key ? limit.key(data) : ''}`
      const admission = await this.limiter.acquire(key, limit)
      if (!admission.allowed) throw new RateLimitError(key, admission.retryAfter)
    }
    // The nearest declared priority: the operation's, its service's, the runtime default.
    const priority = target.kind === 'operation' ? policies.priority : (target.priority ?? this.defaults.priority)
    const now = this.clock.now()
    const inline = origin.inline && !this.limits.has(target.runName) && options.deliverAt === undefined
    const version = origin.version ?? this.version
    const { run, duplicate } = await this.store.enqueue({
      id: origin.id ?? newId(),
      kind: target.kind,
      name: target.runName,
      input: data,
      ...(origin.parentId ? { parentId: origin.parentId } : {}),
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      ...(priority === undefined ? {} : { priority }),
      ...(policies.concurrency?.key ? { concurrencyKey: policies.concurrency.key(data) } : {}),
      ...(origin.trace ? { trace: origin.trace } : {}),
      availableAt: deliverAt(options.deliverAt, now),
      correlationId:
        origin.correlationId ?? (options.correlationId as string | undefined) ?? origin.id ?? target.runName,
      ...(version ? { version } : {}),
      ...(inline ? { leaseOwner: this.workerId, leaseExpiresAt: now + this.leaseMs } : {}),
    })
    if (!duplicate && inline) await this.execute(run)
    else if (!duplicate) this.emitter.emit('work', undefined)
    const latest = !duplicate && inline ? await this.store.getRun(run.id) : run
    return outcomeOf(latest ?? run)
  }

  /** Resolve once the run is final (or reject with its error); for callers outside runs. */
  async awaitRun(runId: string): Promise<unknown> {
    for (;;) {
      let listener: ((record: RunRecord) => void) | undefined
      let timer: Timer | undefined
      const changed = new Promise<void>((resolve) => {
        listener = (record) => {
          if (record.id === runId) resolve()
        }
        this.emitter.on('settled', listener)
        // Another worker may finish it, unseen here: look again now and then.
        timer = this.clock.setTimer(resolve, 1000)
      })
      try {
        const run = await this.store.getRun(runId)
        if (!run) throw new Error(`run ${runId} is not in the store`)
        const outcome = outcomeOf(run)
        if (outcome.state === 'completed') return outcome.value
        if (outcome.state === 'failed') throw outcome.error
        await changed
      } finally {
        if (listener) this.emitter.off('settled', listener)
        timer?.cancel()
      }
    }
  }
}

function deliverAt(when: SendOptions['deliverAt'], now: number): number {
  if (when === undefined) return now
  const at = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(String(when))
  if (Number.isNaN(at))
    throw new TypeError(`deliverAt must be a Date, epoch milliseconds or an ISO date, got ${JSON.stringify(when)}`)
  return Math.max(now, at)
}

export function outcomeOf(run: RunRecord): Outcome {
  if (run.status === 'completed') return { state: 'completed', value: run.result }
  if (FINAL_STATUSES.includes(run.status)) {
    return {
      state: 'failed',
      error: fromErrorInfo(run.error ?? { name: 'Error', message: `run ${run.id} ${run.status}` }),
    }
  }
  return { state: 'running', runId: run.id }
}
