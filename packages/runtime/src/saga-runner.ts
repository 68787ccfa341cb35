/**
 * Runs a saga inside its run: each step's action is a durable attempt (its result — or its
 * error — stored), retried by the step's `retry` (none by default: an action usually calls an
 * operation, which retries by its own policy) with durable sleeps in between; when a step
 * gives up, the compensations of the finished steps run in reverse order, each durable and
 * retried, each given the saga input and that step's result. The saga ends completed (its
 * steps' results by name), compensated (`SagaCompensatedError`), or compensation_failed
 * (`SagaCompensationFailedError`, which lands in the dead-letter queue).
 *
 * @example
 * const results = await runSaga(definition, order, ctx)
 */
import type { RetryOptions, SagaDefinition, SagaStepDefinition } from '@bac/sdk'
import { SagaCompensatedError, SagaCompensationFailedError } from './errors.ts'
import { retryDecision } from './retry-policy.ts'
import type { RunContext } from './run-context.ts'
import type { ErrorInfo } from './store/store.ts'

/** Compensations are retried even when the saga says nothing: undoing must try hard. */
const COMPENSATION_RETRY: RetryOptions = { attempts: 5 }

type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: ErrorInfo }

async function withRetries(
  ctx: RunContext,
  key: string,
  retry: RetryOptions | false | undefined,
  timeout: number | undefined,
  fn: (scope: RunContext) => unknown,
): Promise<Settled> {
  // Failures a dead-letter replay set aside replay as they went (their waits are stored) and
  // then make way for new attempts, with a fresh budget.
  let counted = 0
  for (let attempt = 1; ; attempt++) {
    const outcome = await ctx.attempt(`${key}#${attempt}`, fn, timeout)
    if (outcome.ok) return outcome
    const setAside = outcome.setAside === true
    const decision = retryDecision(retry, setAside ? attempt : ++counted, outcome.error, () => 0.5)
    if (decision.retry) await ctx.sleep(decision.delay)
    else if (!setAside) return outcome
  }
}

export async function runSaga(saga: SagaDefinition, input: unknown, ctx: RunContext): Promise<Record<string, unknown>> {
  const finished: { readonly step: SagaStepDefinition; readonly result: unknown }[] = []
  for (const step of saga.steps) {
    // Not retried unless asked: an action usually calls an operation, which retries by its own policy.
    const retry = step.options.retry ?? saga.options.retry ?? false
    const timeout = step.options.timeout ?? saga.options.timeout
    const outcome = await withRetries(ctx, `action:${step.name}`, retry, timeout, (scope) => step.action(input, scope))
    if (outcome.ok) {
      finished.push({ step, result: outcome.value })
      continue
    }
    ctx.log.warn('saga step failed; compensating the finished steps', {
      saga: saga.name,
      step: step.name,
      error: outcome.error.message,
    })
    for (const done of [...finished].reverse()) {
      const { compensation } = done.step
      if (!compensation) continue
      const undone = await withRetries(
        ctx,
        `compensate:${done.step.name}`,
        done.step.options.retry === false ? COMPENSATION_RETRY : (done.step.options.retry ?? COMPENSATION_RETRY),
        done.step.options.timeout,
        (scope) => compensation(input, done.result, scope),
      )
      if (!undone.ok) throw new SagaCompensationFailedError(saga.name, done.step.name, step.name, undone.error)
    }
    throw new SagaCompensatedError(saga.name, step.name, outcome.error)
  }
  return Object.fromEntries(finished.map(({ step, result }) => [step.name, result]))
}
