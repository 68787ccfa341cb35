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
import type { PolicyOptions } from '@bac/sdk'
import { bindContext, matches, validate } from '@bac/sdk/internal'
import type { Engine } from './engine.ts'
import { toErrorInfo, UnknownTargetError } from './errors.ts'
import { newId } from './ids.ts'
import { retryDecision } from './retry-policy.ts'
import { RunContext } from './run-context.ts'
import { waitKey } from './store/kysely-store.ts'
import { FINAL_STATUSES, type RunRecord, type Wait } from './store/store.ts'
import { withTimeLimit } from './time-limit.ts'

/** What a run executes: its code, its policies, and how its result is checked. */
interface Target {
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
    try {
      let target: Target
      try {
        target = this.target(run)
      } catch (error) {
        await this.fail(run, error)
        return
      }
      // A run claimed for the first time has no steps yet; don't ask.
      const steps = run.attempt > 1 ? await this.engine.store.steps(run.id) : []
      const ctx = new RunContext(this.engine, run, steps, target.service)
      this.active.set(run.id, ctx)
      const outcome = await this.attempt(run, ctx, target)
      if (outcome.kind === 'completed') await this.complete(run, outcome.value)
      else if (outcome.kind === 'suspended') await this.suspend(run, ctx)
      else await this.fail(run, outcome.error, target.policies)
    } finally {
      this.active.delete(run.id)
    }
  }

  /** Abort the code of every active run (the runtime is stopping). */
  abortAll(reason: unknown): void {
    for (const ctx of this.active.values()) ctx?.abort(reason)
  }

  private async attempt(run: RunRecord, ctx: RunContext, target: Target): Promise<Outcome> {
    const work = Promise.resolve().then(() => bindContext(ctx, () => target.invoke(ctx)))
    // If the run suspends, `work` never settles — or rejects later in a branch nobody awaits.
    work.catch(() => {})
    const limited = withTimeLimit(this.engine.clock, work, target.policies.timeout, `${run.kind} "${run.name}"`, (e) =>
      ctx.abort(e),
    )
    try {
      const value = await Promise.race([limited, ctx.suspended.then(() => SUSPENDED)])
      if (value === SUSPENDED) {
        await ctx.settleSteps()
        return { kind: 'suspended' }
      }
      return { kind: 'completed', value: target.checkOutput ? target.checkOutput(value) : value }
    } catch (error) {
      return { kind: 'failed', error }
    }
  }

  private target(run: RunRecord): Target {
    const { catalog } = this.engine
    switch (run.kind) {
      case 'handler': {
        const handler = catalog.handler(run.name)
        if (!handler) break
        return {
          invoke: (ctx) => handler.handler(run.input, ctx),
          policies: handler.options,
          ...(handler.service ? { service: handler.service } : {}),
        }
      }
      case 'operation': {
        const resolved = catalog.operationByRunName(run.name)
        if (!resolved) break
        const { operation, service } = resolved
        const output = operation.output
        return {
          invoke: (ctx) => operation.handler(run.input, ctx),
          policies: { ...service.policies, ...operation.options },
          service: service.name,
          ...(output
            ? { checkOutput: (value) => validate(output, value, `${service.key}.${operation.name} output`) }
            : {}),
        }
      }
      case 'schedule': {
        const schedule = catalog.schedule(run.name)
        if (!schedule) break
        const { scheduledAt } = run.input as { scheduledAt: number }
        return {
          invoke: (ctx) => schedule.handler({ scheduledAt: new Date(scheduledAt) }, ctx),
          policies: schedule.options,
          ...(schedule.service ? { service: schedule.service } : {}),
        }
      }
      default:
        break
    }
    throw new UnknownTargetError(
      `${run.kind} "${run.name}" is not in business "${this.engine.business.name}"${run.version ? ` (run of version ${run.version})` : ''}; ` +
        'it may have been renamed or removed since the run was created',
    )
  }

  private async complete(run: RunRecord, value: unknown): Promise<void> {
    const now = this.engine.clock.now()
    const settled = await this.engine.store.settle(run.id, this.engine.workerId, {
      status: 'completed',
      result: value,
      now,
    })
    if (!settled) return this.lostLease(run)
    await this.finished(settled)
  }

  private async suspend(run: RunRecord, ctx: RunContext): Promise<void> {
    const { wait, availableAt } = ctx.suspension ?? { wait: { kind: 'sleep' as const, until: 0 }, availableAt: 0 }
    const { store, clock, workerId } = this.engine
    const settled = await store.settle(run.id, workerId, { status: 'waiting', wait, availableAt, now: clock.now() })
    if (!settled) return this.lostLease(run)
    // After the commit, look once more for what we wait on: it may have happened while we
    // suspended, before anyone could see that we wait (the publisher checks after its commit too).
    const key = waitKey(wait)
    if (key && (await this.alreadyHappened(wait))) await store.wakeWaiters([key], clock.now())
    this.engine.emitter.emit('work', undefined)
  }

  private async alreadyHappened(wait: Wait): Promise<boolean> {
    const { store } = this.engine
    if (wait.kind === 'run') {
      const child = await store.getRun(wait.runId)
      return child !== undefined && FINAL_STATUSES.includes(child.status)
    }
    if (wait.kind === 'event') {
      const names = wait.pattern.includes('*') ? undefined : [wait.pattern]
      const since = await store.eventsAfter(names, wait.afterSeq, 500)
      return since.some((event) => matches(wait.pattern, event.name))
    }
    return false
  }

  private async fail(run: RunRecord, error: unknown, policies: PolicyOptions = {}): Promise<void> {
    const { store, clock, workerId, random, log } = this.engine
    const now = clock.now()
    const failures = run.failures + 1
    const info = toErrorInfo(error)
    const failure = { attempt: run.attempt, at: now, error: info }
    const decision = retryDecision(policies.retry, failures, error, random)
    const runLog = log.child({ run: run.id, name: run.name, attempt: run.attempt })
    if (decision.retry) {
      const until = now + decision.delay
      const settled = await store.settle(run.id, workerId, {
        status: 'waiting',
        wait: { kind: 'retry', until },
        availableAt: until,
        error: info,
        failure,
        now,
      })
      if (!settled) return this.lostLease(run)
      runLog.warn('run failed; retrying', { error: info.message, retryIn: decision.delay, failures })
      this.engine.emitter.emit('work', undefined)
      return
    }
    const deadLetter = run.parentId ? undefined : newId()
    const settled = await store.settle(run.id, workerId, {
      status: 'failed',
      error: info,
      failure,
      ...(deadLetter ? { deadLetterId: deadLetter } : {}),
      now,
    })
    if (!settled) return this.lostLease(run)
    runLog.error(deadLetter ? 'run failed; moved to the dead-letter queue' : 'run failed', {
      error: info.message,
      reason: decision.reason,
      ...(deadLetter ? { deadLetter } : {}),
    })
    await this.finished(settled)
  }

  /** Tell whoever waits on this run: parents in the store (only operations are awaited), callers here. */
  private async finished(run: RunRecord): Promise<void> {
    const { store, clock, emitter } = this.engine
    if (run.kind === 'operation') await store.wakeWaiters([`run:${run.id}`], clock.now())
    emitter.emit('settled', run)
    emitter.emit('work', undefined)
  }

  private lostLease(run: RunRecord): void {
    this.engine.log.warn('run lease was lost; another worker owns it now, so this result is dropped', { run: run.id })
  }
}

const SUSPENDED = Symbol('suspended')
