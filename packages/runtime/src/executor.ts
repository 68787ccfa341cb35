/**
 * Executes one leased run: finds its code in the business, replays its stored steps through a
 * `RunContext`, enforces the attempt's time limit, and settles the outcome in the store —
 * completed; waiting (suspended, or retrying after a backoff); or failed, filed in the
 * dead-letter queue with its error and attempt history. Runs called by another run are not
 * dead-lettered: their failure goes to the caller, which decides.
 *
 * @example
 * await executor.execute(run)
 */
import { type CircuitBreakerOptions, isTimeoutError, isValidationError, type PolicyOptions } from '@bac/sdk'
import { bindContext, validate } from '@bac/sdk/internal'
import type { Span } from '@opentelemetry/api'
import { runAgent } from './ai/agent-runner.ts'
import { type Catalog, unversioned } from './catalog.ts'
import { runComposition } from './composition-runner.ts'
import type { Engine } from './engine.ts'
import { PolicyKeyError, SuspendedError, toErrorInfo, UnknownTargetError, UnstorableValueError } from './errors.ts'
import { newId } from './ids.ts'
import { BrokenCircuitError } from './policies/circuit-breaker.ts'
import { fallbackValue } from './policies/fallback.ts'
import { RateLimitError } from './policies/rate-limiter.ts'
import { recordedKeyOf } from './recorded-failure.ts'
import { retryDecision } from './retry-policy.ts'
import { RunContext } from './run-context.ts'
import { runSaga } from './saga-runner.ts'
import { settleRun } from './settle-run.ts'
import { FINAL_STATUSES, type RunRecord } from './store/store.ts'
import { endSpan, startRunSpan, withSpan } from './telemetry/tracing.ts'
import { withTimeLimit } from './time-limit.ts'

/** What a run executes: its code, its policies, and how its result is checked. */
interface Target {
  readonly catalog: Catalog
  readonly invoke: (ctx: RunContext) => unknown
  readonly policies: PolicyOptions
  readonly service?: string
  readonly checkOutput?: (value: unknown) => unknown
}

type Outcome =
  | { readonly kind: 'completed'; readonly value: unknown }
  | { readonly kind: 'suspended' }
  | { readonly kind: 'failed'; readonly error: unknown }

export class Executor {
  /** Runs executing in this worker (claimed or inline), for lease renewal. */
  readonly active = new Map<string, RunContext | undefined>()
  /** Called as each run starts (the dispatcher keeps its lease renewal going). */
  onStart: () => void = () => {}

  constructor(private readonly engine: Engine) {}

  async execute(run: RunRecord): Promise<void> {
    this.active.set(run.id, undefined)
    this.onStart()
    this.engine.emitter.emit('started', run)
    const began = performance.now()
    const ended = (outcome: 'completed' | 'waiting' | 'retrying' | 'failed' | 'compensated') =>
      this.engine.emitter.emit('ended', { run, outcome, seconds: (performance.now() - began) / 1000 })
    let span: Span | undefined
    try {
      let target: Target
      try {
        target = this.target(run)
      } catch (error) {
        ended(await this.fail(run, error))
        return
      }
      span = startRunSpan(run, {
        'bac.run.kind': run.kind,
        'bac.run.name': run.name,
        ...(target.service ? { 'bac.service': target.service } : {}),
      })
      // A run claimed for the first time has no steps yet; don't ask.
      const steps = run.attempt > 1 ? await this.engine.store.steps(run.id) : []
      let gate: Awaited<ReturnType<Executor['admit']>>
      try {
        gate = await this.admit(
          run,
          target,
          steps.some((s) => s.key === ADMITTED),
        )
      } catch (error) {
        // A policy's key function threw: the run's own fault, and retrying cannot help.
        if (!(error instanceof PolicyKeyError)) throw error
        ended(await this.fail(run, error, target.policies))
        return
      }
      if (gate.kind === 'wait') {
        ended(await this.hold(run, gate.until, gate.reason))
        return
      }
      if (gate.kind === 'fallback') {
        ended(await this.fail(run, gate.error, target.policies))
        return
      }
      const ctx = RunContext.root(this.engine, target.catalog, run, steps, target.service, span)
      this.active.set(run.id, ctx)
      const outcome = await this.attempt(run, ctx, target)
      // An attempt cut short here (stopping, lease lost) says nothing about what it called.
      const cutShort = ctx.signal.aborted && !isTimeoutError(ctx.signal.reason)
      if (outcome.kind !== 'suspended' && !cutShort) await this.recordBreaker(run, target, outcome)
      if (outcome.kind === 'completed') ended(await this.complete(run, outcome.value, target))
      else if (outcome.kind === 'suspended') ended(await this.suspend(run, ctx))
      else {
        endSpan(span, outcome.error)
        span = undefined
        ended(await this.fail(run, outcome.error, target.policies))
      }
    } finally {
      endSpan(span)
      this.active.delete(run.id)
    }
  }

  /**
   * Whether the run may execute now: its rate limit (taken once per run) and its circuit
   * breaker. Over the limit it waits, or fails with `onLimit: 'fail'`; while the breaker is
   * open it waits for the probe — or falls back at once, if it has a fallback.
   */
  private async admit(
    run: RunRecord,
    target: Target,
    admitted: boolean,
  ): Promise<{ kind: 'go' } | { kind: 'wait'; until: number; reason: string } | { kind: 'fallback'; error: Error }> {
    const { rateLimit, circuitBreaker, fallback } = target.policies
    const now = this.engine.clock.now()
    // An operation that fails over its limit took its token when it was called (engine.invoke).
    const takenByCaller = run.kind === 'operation' && rateLimit?.onLimit === 'fail'
    if (rateLimit && !admitted && !takenByCaller) {
      const key = `${unversioned(run.name)}:${rateLimit.key ? userKey('rateLimit.key', run, rateLimit.key) : ''}`
      const admission = await this.engine.limiter.acquire(key, rateLimit, rateLimit.onLimit !== 'fail')
      if (!admission.allowed) {
        if (rateLimit.onLimit === 'fail')
          return { kind: 'fallback', error: new RateLimitError(key, admission.retryAfter) }
        return { kind: 'wait', until: now + admission.retryAfter, reason: `rate limit of ${key}` }
      }
      // The token is the run's (now, or booked for later): it is not taken again on a retry.
      await this.engine.store.saveStep({ runId: run.id, key: ADMITTED, result: now, startedAt: now, finishedAt: now })
      if (admission.after) return { kind: 'wait', until: now + admission.after, reason: `rate limit of ${key}` }
    }
    if (circuitBreaker) {
      const name = breakerName(run, circuitBreaker)
      const admission = await this.engine.breakers.admit(name, circuitBreaker)
      if (!admission.allowed) {
        const error = new BrokenCircuitError(name, admission.retryAfter ?? 0)
        if (fallback !== undefined) return { kind: 'fallback', error }
        return { kind: 'wait', until: now + (admission.retryAfter ?? 0), reason: `circuit breaker ${name} is open` }
      }
    }
    return { kind: 'go' }
  }

  /** Count an attempt's outcome on its breaker (a bad input is the caller's fault, not the callee's). */
  private async recordBreaker(run: RunRecord, target: Target, outcome: Outcome): Promise<void> {
    const options = target.policies.circuitBreaker
    if (!options) return
    if (outcome.kind === 'failed' && isValidationError(outcome.error)) return
    await this.engine.breakers.record(breakerName(run, options), outcome.kind === 'completed', options)
  }

  /** Put the run back to wait, without counting a failure (a rate limit or an open breaker). */
  private async hold(run: RunRecord, until: number, reason: string): Promise<'waiting'> {
    const { store, clock, workerId } = this.engine
    const settled = await settleRun(store, run.id, workerId, {
      status: 'waiting',
      waits: [{ kind: 'limit', until, reason }],
      availableAt: until,
      now: clock.now(),
    })
    if (!settled) this.lostLease(run)
    else this.engine.emitter.emit('work', undefined)
    return 'waiting'
  }

  /** Until the step bodies running in active runs have ended (and stored their results). */
  async settleSteps(): Promise<void> {
    await Promise.all([...this.active.values()].map((ctx) => ctx?.settleSteps()))
  }

  /** Abort the code of every active run (the runtime is stopping). */
  abortAll(reason: unknown): void {
    for (const ctx of this.active.values()) ctx?.abort(reason)
  }

  /** Abort one run's code (its lease went to another worker): it may do nothing more here. */
  abort(id: string, reason: unknown): void {
    this.active.get(id)?.abort(reason)
    this.engine.log.warn('a run’s lease was lost; its code here is stopped, another worker continues it', { run: id })
  }

  private async attempt(run: RunRecord, ctx: RunContext, target: Target): Promise<Outcome> {
    const work = Promise.resolve().then(() => bindContext(ctx, () => withSpan(ctx.span, () => target.invoke(ctx))))
    // Whether the code has finished, however the race below ends (a branch that waits never does).
    let finished: { readonly value: unknown } | { readonly error: unknown } | undefined
    work.then(
      (value) => {
        finished = { value }
      },
      (error: unknown) => {
        finished = { error }
      },
    )
    const limited = withTimeLimit(this.engine.clock, work, target.policies.timeout, `${run.kind} "${run.name}"`, (e) =>
      ctx.abort(e),
    )
    try {
      const value = await Promise.race([limited, ctx.suspended.then(() => SUSPENDED)])
      if (value !== SUSPENDED)
        return { kind: 'completed', value: target.checkOutput ? target.checkOutput(value) : value }
      // Something waits. Let every other branch run until nothing moves any more: the code may
      // still finish (the other side of a Promise.race won, and what follows it ran), or
      // everything left is waiting.
      for (;;) {
        const before = ctx.progress
        await ctx.settleSteps({ orUntilOver: true })
        await new Promise((resolve) => setImmediate(resolve))
        if (finished || ctx.signal.aborted || ctx.progress === before) break
      }
      if (ctx.signal.aborted && isTimeoutError(ctx.signal.reason)) return { kind: 'failed', error: ctx.signal.reason }
      if (!finished) {
        // The attempt ends here: code still under way (a timer, a late branch) may do nothing
        // durable from now on — the next execution replays from what is stored.
        ctx.abort(new SuspendedError())
        return { kind: 'suspended' }
      }
      if ('error' in finished) return { kind: 'failed', error: finished.error }
      return { kind: 'completed', value: target.checkOutput ? target.checkOutput(finished.value) : finished.value }
    } catch (error) {
      return { kind: 'failed', error }
    }
  }

  private target(run: RunRecord): Target {
    const catalog = this.engine.catalogFor(run.version)
    const found = catalog ? this.code(run, catalog) : undefined
    if (catalog && found) return { catalog, ...found }
    throw new UnknownTargetError(
      `${run.kind} "${run.name}" is not in business "${this.engine.business.name}"${run.version ? ` (run of version ${run.version})` : ''}; ` +
        'it may have been renamed or removed since the run was created',
    )
  }

  private code(run: RunRecord, catalog: Catalog): Omit<Target, 'catalog'> | undefined {
    switch (run.kind) {
      case 'handler': {
        const handler = catalog.handler(run.name)
        if (!handler) return undefined
        return {
          invoke: (ctx) => handler.handler(run.input, ctx),
          policies: this.engine.policiesOf(catalog.service(handler.service), handler.options),
          ...(handler.service ? { service: handler.service } : {}),
        }
      }
      case 'operation': {
        const resolved = catalog.operationByRunName(run.name)
        if (!resolved) return undefined
        const { operation, service } = resolved
        const output = operation.output
        return {
          invoke: (ctx) => operation.handler(run.input, ctx),
          policies: this.engine.policiesOf(service, operation.options),
          service: service.name,
          ...(output
            ? { checkOutput: (value) => validate(output, value, `${service.key}.${operation.name} output`) }
            : {}),
        }
      }
      case 'schedule': {
        const schedule = catalog.schedule(run.name)
        if (!schedule) return undefined
        const { scheduledAt } = run.input as { scheduledAt: number }
        return {
          invoke: (ctx) => schedule.handler({ scheduledAt: new Date(scheduledAt) }, ctx),
          policies: this.engine.policiesOf(catalog.service(schedule.service), schedule.options),
          ...(schedule.service ? { service: schedule.service } : {}),
        }
      }
      case 'saga': {
        const saga = catalog.saga(run.name)
        if (!saga) return undefined
        return {
          invoke: (ctx) => runSaga(saga, run.input, ctx),
          policies: this.engine.policiesOf(undefined, saga.options),
        }
      }
      case 'agent': {
        const agent = catalog.agent(run.name)
        if (!agent) return undefined
        return {
          invoke: (ctx) => runAgent(agent, run.input, ctx),
          policies: this.engine.policiesOf(catalog.service(agent.service), {}),
          ...(agent.service ? { service: agent.service } : {}),
        }
      }
      case 'composition': {
        const composition = catalog.composition(run.name)
        if (!composition) return undefined
        return {
          invoke: (ctx) => runComposition(composition, run.input, ctx),
          policies: this.engine.policiesOf(undefined, {}),
        }
      }
      default:
        return undefined
    }
  }

  private async complete(
    run: RunRecord,
    value: unknown,
    target?: Target,
  ): Promise<'completed' | 'failed' | 'retrying' | 'compensated'> {
    const now = this.engine.clock.now()
    let settled: RunRecord | undefined
    try {
      settled = await settleRun(this.engine.store, run.id, this.engine.workerId, {
        status: 'completed',
        result: value,
        now,
      })
    } catch (error) {
      // A result the store cannot hold fails the run for good, rather than re-running it forever.
      if (error instanceof UnstorableValueError)
        return this.fail(run, error.about(`the result of ${run.kind} "${run.name}"`))
      throw error
    }
    if (!settled) {
      this.lostLease(run)
      return 'completed'
    }
    const cache = target?.policies.cache
    if (cache && run.kind === 'operation') {
      try {
        const key = this.engine.cache.keyFor(run.name, cache, run.input)
        const tags = cache.tags ? cache.tags(run.input, value) : []
        // Tagged with documents: not cached if any of their types was written since the run began.
        const types = [...new Set(tags.map((tag) => tag.split(':')[0] ?? tag))]
        await this.engine.cache.set(
          key,
          value,
          cache,
          tags,
          tags.length > 0 ? { types, since: run.createdAt } : undefined,
        )
      } catch (error) {
        this.engine.log.warn('the result could not be cached', {
          run: run.id,
          name: run.name,
          error: (error as Error).message,
        })
      }
    }
    this.finished(settled)
    return 'completed'
  }

  private async suspend(run: RunRecord, ctx: RunContext): Promise<'waiting'> {
    const { waits, availableAt } = ctx.suspension ?? { waits: [], availableAt: 0 }
    const { store, clock, workerId } = this.engine
    // The store wakes the run at once if what it waits for happened while it ran.
    const settled = await settleRun(store, run.id, workerId, {
      status: 'waiting',
      waits,
      availableAt,
      now: clock.now(),
    })
    if (!settled) this.lostLease(run)
    else this.engine.emitter.emit('work', undefined)
    return 'waiting'
  }

  private async fail(
    run: RunRecord,
    error: unknown,
    policies: PolicyOptions = {},
  ): Promise<'retrying' | 'failed' | 'compensated' | 'completed'> {
    const { store, clock, workerId, random, log } = this.engine
    const now = clock.now()
    const failures = run.failures + 1
    const info = toErrorInfo(error)
    const failure = { attempt: run.attempt, at: now, error: info }
    // A failed write the code did not get past: forgotten, so the next attempt tries it again.
    const forgotten = recordedKeyOf(error)
    const forgetSteps = forgotten === undefined ? {} : { forgetSteps: [forgotten] }
    const runLog = log.child({ run: run.id, name: run.name, attempt: run.attempt })
    if (info.code === 'BAC_SAGA_COMPENSATED') {
      const settled = await settleRun(store, run.id, workerId, { status: 'compensated', error: info, failure, now })
      if (!settled) this.lostLease(run)
      else {
        runLog.warn('saga compensated', { error: info.message })
        this.finished(settled)
      }
      return 'compensated'
    }
    const decision =
      error instanceof BrokenCircuitError
        ? ({ retry: false, reason: 'its circuit breaker is open' } as const)
        : retryDecision(policies.retry, failures, error, random)
    if (decision.retry) {
      const until = now + decision.delay
      const settled = await settleRun(store, run.id, workerId, {
        status: 'waiting',
        waits: [{ kind: 'retry', until }],
        availableAt: until,
        error: info,
        failure,
        ...forgetSteps,
        now,
      })
      if (!settled) this.lostLease(run)
      else {
        runLog.warn('run failed; retrying', { error: info.message, retryIn: decision.delay, failures })
        this.engine.emitter.emit('work', undefined)
      }
      return 'retrying'
    }
    if (policies.fallback !== undefined) {
      try {
        const value = await fallbackValue(policies.fallback, error, run.input)
        runLog.warn('run failed; answered with its fallback', { error: info.message, reason: decision.reason })
        return await this.complete(run, value)
      } catch (fallbackError) {
        runLog.error('the fallback failed too', { error: (fallbackError as Error).message })
      }
    }
    // A caller run gets the failure and decides — unless it has already finished, and so never
    // will. A failed compensation always needs a person.
    const handled =
      run.parentId !== undefined &&
      info.code !== 'BAC_SAGA_COMPENSATION_FAILED' &&
      (await this.callerWaits(run.parentId))
    const deadLetter = handled ? undefined : newId()
    const settled = await settleRun(store, run.id, workerId, {
      status: 'failed',
      error: info,
      failure,
      ...(deadLetter ? { deadLetterId: deadLetter } : {}),
      ...forgetSteps,
      now,
    })
    if (!settled) {
      this.lostLease(run)
      return 'failed'
    }
    runLog.error(deadLetter ? 'run failed; moved to the dead-letter queue' : 'run failed', {
      error: info.message,
      reason: decision.reason,
      ...(deadLetter ? { deadLetter } : {}),
    })
    this.finished(settled)
    return 'failed'
  }

  /** Tell callers in this process (the store has woken waiting runs in the same transaction). */
  private finished(run: RunRecord): void {
    this.engine.emitter.emit('settled', run)
    this.engine.emitter.emit('work', undefined)
  }

  private async callerWaits(parentId: string): Promise<boolean> {
    const parent = await this.engine.store.getRun(parentId)
    return parent !== undefined && !FINAL_STATUSES.includes(parent.status)
  }

  private lostLease(run: RunRecord): void {
    this.engine.log.warn('run lease was lost; another worker owns it now, so this result is dropped', { run: run.id })
  }
}

const SUSPENDED = Symbol('suspended')
/** The step that records a run has taken its rate-limit token (once per run). */
const ADMITTED = '$admitted'

/** A breaker's name: the one declared, else the operation or handler. */
const breakerName = (run: RunRecord, options: CircuitBreakerOptions) => options.name ?? unversioned(run.name)

function userKey(what: string, run: RunRecord, key: (input: unknown) => string): string {
  try {
    return String(key(run.input))
  } catch (error) {
    throw new PolicyKeyError(
      `${what} of ${run.kind} "${run.name}" threw on its input: ${(error as Error)?.message ?? error}`,
    )
  }
}
