/**
 * `createRuntime({ business, store, clock?, logger? })`: a business, running durably. Work is
 * written to the store before it runs; the dispatcher claims and executes it with retries;
 * schedules fire on time; after a crash, `start()` finds unfinished runs and resumes them
 * from their last finished step.
 *
 * @example
 * const rt = await createRuntime({ business: await load('./examples/shop'), store: sqlite({ file: '.bac/dev.db' }) })
 * await rt.start()
 * await rt.send($.Order.placed, order, { idempotencyKey: order.id })
 * await rt.drain()
 * await rt.stop()
 */
import type { BusinessDefinition, CacheControl, CallOptions, Db, Logger, PolicyInput, SendOptions } from '@bac/sdk'
import { bindContext, eventName, policyOptions } from '@bac/sdk/internal'
import { type AIConfig, aiSettings } from './ai/ai-config.ts'
import type { Clock } from './clock/clock.ts'
import { realClock } from './clock/real-clock.ts'
import type { VirtualClock } from './clock/virtual-clock.ts'
import { clockSkew, tolerableSkew } from './clock-skew.ts'
import { newWorkerId, releaseDeadOwners } from './dead-workers.ts'
import { Dispatcher } from './dispatcher.ts'
import { Engine } from './engine.ts'
import { RuntimeStateError } from './errors.ts'
import { Executor } from './executor.ts'
import { HealthMonitor, type HealthReport } from './health.ts'
import { jsonLogger } from './json-logger.ts'
import { OutsideContext } from './outside-context.ts'
import { type RuntimePolicies, runtimePolicies } from './policies/runtime-policies.ts'
import { Scheduler } from './scheduler.ts'
import { sqlite } from './store/sqlite/sqlite-store.ts'
import type { DeadLetterRecord, RunQuery, RunRecord, StepRecord, Store } from './store/store.ts'
import { instrument } from './telemetry/instrument.ts'
import type { MetricsSnapshot } from './telemetry/metrics.ts'
import { traceOf } from './telemetry/tracing.ts'
import { trackStore } from './tracked-store.ts'

export interface RuntimeOptions {
  readonly business: BusinessDefinition
  /** Default: SQLite at `.bac/dev.db`. */
  readonly store?: Store
  /** Default: the wall clock; tests pass `virtualClock()`. */
  readonly clock?: Clock
  /** Default: JSON lines on stderr at `LOG_LEVEL`. */
  readonly logger?: Logger
  /** Runs executing at once in this worker (default 10). */
  readonly concurrency?: number
  /** How long a claimed run is this worker's before others may take it over (default 30 s). */
  readonly leaseMs?: number
  /** Look for work other processes wrote this often, ms (default: 1000 on PostgreSQL, off on SQLite and virtual clocks). */
  readonly pollInterval?: number | false
  /** The deployed version runs are pinned to. */
  readonly version?: string
  /** How long `stop()` lets executing runs finish (default 10 s). */
  readonly shutdownGrace?: number
  readonly workerId?: string
  /** Randomness for retry jitter (tests make it deterministic). */
  readonly random?: () => number
  /**
   * Policies for every run unless its service, operation or handler declares its own — the
   * nearest wins: `{ retry: 5, timeout: '30s', circuitBreaker: true }`.
   */
  readonly defaults?: PolicyInput
  /** Models, provider, budgets, cache; default from `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `BAC_AI_MODEL`. */
  readonly ai?: AIConfig
}

/** A run with its stored steps, as `rt.runs.get` shows it. */
export interface RunDetail extends RunRecord {
  readonly steps: readonly StepRecord[]
}

export interface Runtime {
  /** The active definition (the one new runs use). */
  readonly business: BusinessDefinition
  readonly store: Store
  readonly clock: Clock
  readonly workerId: string
  /** Begin dispatching: resume unfinished runs, fire schedules, execute what is sent. */
  start(): Promise<void>
  /** Stop claiming; let executing runs finish (bounded); leave the rest resumable; close the store. */
  stop(): Promise<void>
  /** Publish an event (resolves to its id) or call an operation (resolves to its result). */
  send(event: string, payload?: unknown, options?: SendOptions): Promise<unknown>
  /** Publish an event — never an operation call, whatever its name — and resolve to its id. */
  publish(event: string, payload?: unknown, options?: SendOptions): Promise<string>
  /** Call a public operation of a service by name (`version` picks a range) and resolve to its result. */
  call(service: string, operation: string, input?: unknown, options?: CallOptions): Promise<unknown>
  /** Until no runnable work is left (runs waiting for a later time do not count). */
  drain(): Promise<void>
  /** Run `fn` with this runtime as the ambient context (`send`, `db`... outside any run). */
  run<T>(fn: () => T): T
  /** The business's documents, outside any run (for tests, tools and the dashboard). */
  readonly db: Db
  /**
   * Load a new definition (a deploy, a hot reload) and make it the one new runs use. Runs in
   * flight stay pinned to the version they started on and finish on its code. With
   * `active: false` it is only loaded, so runs pinned to it can execute here.
   */
  activate(
    business: BusinessDefinition,
    options: { readonly version: string; readonly active?: boolean },
  ): Promise<void>
  /** The versions this runtime can execute, and the one new runs use. */
  readonly versions: { readonly active: string | undefined; readonly loaded: readonly (string | null)[] }
  /** Store reachability, circuit-breaker states and each service's latest health check. */
  health(): Promise<HealthReport>
  /** Built-in and business metrics: Prometheus text (`GET /metrics`) or a JSON snapshot. */
  readonly metrics: {
    text(): Promise<string>
    snapshot(): Promise<MetricsSnapshot>
    readonly contentType: string
  }
  /** The result cache of operations: `invalidate('products:1')`, `invalidatePattern('products:*')`. */
  readonly cache: CacheControl
  /** Retry, timeout, circuit breaker and rate limit as values for code of your own (`wrap(...)` them). */
  readonly policies: RuntimePolicies
  readonly runs: {
    list(query?: RunQuery): Promise<RunRecord[]>
    get(id: string): Promise<RunDetail | undefined>
  }
  readonly dlq: {
    list(limit?: number): Promise<DeadLetterRecord[]>
    get(id: string): Promise<DeadLetterRecord | undefined>
    /** Run it again with a fresh retry budget (its finished steps are kept). */
    replay(id: string): Promise<RunRecord>
    /** Give up on it for good. */
    discard(id: string): Promise<void>
  }
}

const isVirtual = (clock: Clock): clock is VirtualClock => typeof (clock as Partial<VirtualClock>).attach === 'function'

export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const business = options.business
  if (!business || typeof business.name !== 'string' || !Array.isArray(business.handlers)) {
    throw new TypeError('createRuntime(): business must be a definition from load() or business()')
  }
  const { store, quiet } = trackStore(options.store ?? sqlite())
  const clock = options.clock ?? realClock
  const workerId = options.workerId ?? newWorkerId()
  const log = (options.logger ?? jsonLogger()).child({ business: business.name, worker: workerId })
  const defaults =
    options.defaults === undefined ? undefined : policyOptions(options.defaults, 'createRuntime() defaults')
  const ai = aiSettings(options.ai)
  await store.open()

  const engine = new Engine({
    business,
    store,
    clock,
    log,
    workerId,
    leaseMs: options.leaseMs ?? 30_000,
    ...(options.version ? { version: options.version } : {}),
    random: options.random ?? Math.random,
    ...(defaults ? { defaults } : {}),
    ai,
  })
  instrument(engine)
  const executor = new Executor(engine)
  engine.execute = (run) => executor.execute(run)
  // Other processes may write to the store: they say so (LISTEN/NOTIFY on PostgreSQL; on a
  // SQLite file, its data version), and on PostgreSQL a slow poll is the safety net. A virtual
  // clock means one test process.
  const shared = store.kind === 'postgres' && !isVirtual(clock)
  const listens = store.listen !== undefined && !isVirtual(clock)
  const poll =
    options.pollInterval === false
      ? undefined
      : (options.pollInterval ?? (shared ? (listens ? 5000 : 1000) : undefined))
  const dispatcher = new Dispatcher(engine, executor, {
    concurrency: options.concurrency ?? 10,
    ...(poll === undefined ? {} : { pollInterval: poll }),
    // On PostgreSQL a wake-up can race a suspension in another worker; sweep for those now and then.
    ...(shared ? { sweepInterval: 15_000 } : {}),
  })
  dispatcher.attach()
  const scheduler = new Scheduler(engine)
  const outside = new OutsideContext(engine)
  const health = new HealthMonitor(engine, outside, () => executor.active.size, shared)
  const detach = isVirtual(clock) ? clock.attach(quiet) : undefined
  let state: 'created' | 'started' | 'stopped' = 'created'
  let unlisten: (() => Promise<void>) | undefined

  const warnOfClockSkew = async () => {
    const skewMs = await clockSkew(store, clock)
    if (Math.abs(skewMs) > tolerableSkew(engine.leaseMs)) {
      log.warn('this worker’s clock is off the database’s by more than leases allow; synchronise it (NTP)', {
        skewMs,
        tolerableMs: tolerableSkew(engine.leaseMs),
      })
    }
  }

  const assertOpen = (what: string) => {
    if (state === 'stopped') throw new RuntimeStateError(`${what}: the runtime is stopped`)
  }

  return {
    get business() {
      return engine.business
    },
    store,
    clock,
    workerId,

    async start() {
      assertOpen('start()')
      if (state === 'started') return
      await releaseDeadOwners(store, clock.now(), log)
      if (shared) await warnOfClockSkew()
      state = 'started'
      if (listens) unlisten = await store.listen?.('bac_work', () => engine.emitter.emit('work', undefined))
      await scheduler.start()
      health.start()
      dispatcher.start()
    },

    async stop() {
      if (state === 'stopped') return
      state = 'stopped'
      scheduler.stop()
      health.stop()
      await unlisten?.()
      await dispatcher.stop(options.shutdownGrace ?? 10_000)
      detach?.()
      await store.close()
    },

    send(event, payload, sendOptions) {
      assertOpen('send()')
      return bindContext(outside, () => outside.send(event, payload, sendOptions))
    },

    publish(event, payload, sendOptions) {
      assertOpen('publish()')
      const trace = traceOf()
      return engine.publish(eventName(event, 'publish()'), payload, sendOptions, trace ? { trace } : {})
    },

    call(service, operation, input, callOptions) {
      assertOpen('call()')
      return bindContext(outside, () => outside.call(service, operation, input, callOptions))
    },

    async drain() {
      assertOpen('drain()')
      if (state !== 'started') throw new RuntimeStateError('drain(): call start() first')
      for (;;) {
        await scheduler.tick()
        await dispatcher.pump()
        await dispatcher.settle()
        if (dispatcher.executing === 0 && !(await store.hasRunnable(clock.now(), engine.versions))) return
      }
    },

    run(fn) {
      assertOpen('run()')
      return bindContext(outside, fn)
    },

    async activate(next, { version, active = true }) {
      assertOpen('activate()')
      if (typeof version !== 'string' || version === '') throw new TypeError('activate(): a version is required')
      if (!active) {
        engine.load(next, version)
        dispatcher.kick()
        return
      }
      engine.activate(next, version)
      log.info('activated a new definition; new runs use it, runs in flight keep theirs', { version })
      if (state === 'started') {
        await scheduler.start()
        health.start()
        dispatcher.kick()
      }
    },

    get versions() {
      return { active: engine.version, loaded: engine.versions }
    },

    health: () => health.report(),

    metrics: {
      text: () => engine.metrics.text(),
      snapshot: () => engine.metrics.snapshot(),
      contentType: engine.metrics.contentType,
    },

    cache: engine.cache.control,

    policies: runtimePolicies(engine),

    get db() {
      return outside.db
    },

    runs: {
      list: (query) => store.listRuns(query),
      async get(id) {
        const run = await store.getRun(id)
        return run ? { ...run, steps: await store.steps(id) } : undefined
      },
    },

    dlq: {
      list: (limit) => store.listDeadLetters(limit),
      get: (id) => store.getDeadLetter(id),
      async replay(id) {
        const run = await store.replayDeadLetter(id, clock.now())
        if (!run) throw new RuntimeStateError(`no dead letter ${id}`)
        engine.emitter.emit('work', undefined)
        return run
      },
      async discard(id) {
        if (!(await store.discardDeadLetter(id, clock.now()))) throw new RuntimeStateError(`no dead letter ${id}`)
      },
    },
  }
}
