/**
 * Every model call goes through here, in or out of a run: the answer cache (by model,
 * messages, tools and schema), the budgets (business and service per period, run), the
 * provider's rate limit, a circuit breaker per model, a time limit, and failover along the
 * model chain; then tokens and cost are counted. What it returns a run stores as a step, so
 * a replay never calls (or pays) again.
 *
 * @example
 * const { response, cost } = await gateway.complete({ messages }, { service: 'Support' })
 */
import { createHash } from 'node:crypto'
import { AIBudgetError, AIUnavailableError, type Logger, NonRetryableError } from '@bac/sdk'
import type { Clock } from '../clock/clock.ts'
import type { CircuitBreakers } from '../policies/circuit-breaker.ts'
import type { RateLimiter } from '../policies/rate-limiter.ts'
import type { ResultCache } from '../policies/result-cache.ts'
import type { StateStore } from '../store/store.ts'
import type { Metrics } from '../telemetry/metrics.ts'
import { withTimeLimit } from '../time-limit.ts'
import type { AISettings } from './ai-config.ts'
import { costOf, priceOf } from './prices.ts'
import type { ChatMessage, ChatResponse, ToolSchema, Usage } from './provider.ts'

export interface AIRequest {
  readonly messages: readonly ChatMessage[]
  readonly tools?: readonly ToolSchema[]
  readonly schema?: { readonly name: string; readonly schema: Readonly<Record<string, unknown>> }
  readonly temperature?: number
  readonly maxTokens?: number
  /** The model to ask first, then `models`, then the runtime's failover models. */
  readonly model?: string
  readonly models?: readonly string[]
  readonly timeout?: number
  /** `false`: ask the model even if the answer is cached. */
  readonly cache?: boolean
  /** The run's signal: a stopped run's call is abandoned. */
  readonly signal?: AbortSignal
  /** Whether an answer is good enough to cache (an answer that fails its schema is not). */
  readonly accept?: (response: ChatResponse) => boolean
}

/** Who is asking: for the service budget, and the run's own. */
export interface AIScope {
  readonly service?: string
  readonly run?: { readonly spent: number; readonly budget?: number }
}

export interface Completion {
  readonly response: ChatResponse
  readonly model: string
  readonly usage: Usage
  /** US dollars (0 for a cached answer, or a model without a known price). */
  readonly cost: number
  readonly cached: boolean
}

export interface GatewayParts {
  readonly clock: Clock
  readonly cache: ResultCache
  readonly state: StateStore
  readonly breakers: CircuitBreakers
  readonly limiter: RateLimiter
  readonly metrics: Metrics
  readonly log: Logger
}

const SPEND = 'ai-spend'
/** HTTP statuses that blame the request, not the model. */
const REQUEST_ERRORS = new Set([400, 404, 413, 422])

/** A budget is set, but a model it would pay for has no price. Not retried: the configuration must change. */
class AIBudgetConfigError extends NonRetryableError {
  override readonly code = 'BAC_AI_BUDGET_CONFIG'
}

export class AIGateway {
  private readonly unpriced = new Set<string>()

  constructor(
    readonly settings: AISettings,
    private readonly parts: GatewayParts,
  ) {}

  /** The models to try, in order. */
  chain(request: Pick<AIRequest, 'model' | 'models'>): string[] {
    const first = request.model ?? request.models?.[0] ?? this.settings.model
    return [...new Set([first, ...(request.models ?? []), ...this.settings.models])]
  }

  async complete(request: AIRequest, scope: AIScope = {}): Promise<Completion> {
    const provider = this.settings.provider
    if (!provider) {
      throw new AIUnavailableError(
        'no AI provider is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server), or pass createRuntime({ ai: { provider } })',
      )
    }
    const models = this.chain(request)
    const cacheKey = request.cache === false ? undefined : this.cacheKey(provider.name, models, request)
    if (cacheKey) {
      const hit = await this.parts.cache.get(cacheKey)
      if (hit) {
        const stored = hit.value as Omit<Completion, 'cost' | 'cached'>
        this.parts.metrics.aiCalls.inc({ model: stored.model, result: 'cached' })
        return { ...stored, cost: 0, cached: true }
      }
    }
    const buckets = await this.checkBudgets(scope)
    const failures: string[] = []
    for (const model of models) {
      this.checkPriced(model, scope, buckets)
      const breaker = this.settings.circuitBreaker
      const breakerName = `ai:${model}`
      if (breaker) {
        const admission = await this.parts.breakers.admit(breakerName, breaker)
        if (!admission.allowed) {
          failures.push(`${model}: circuit breaker open`)
          continue
        }
      }
      await this.takeToken(provider.name)
      let response: ChatResponse
      try {
        response = await this.ask(model, request)
      } catch (error) {
        // Stopped by the run (stopping, lease lost): nobody to answer, nothing to blame.
        if (request.signal?.aborted) throw error
        // A request the provider refuses as such (a bad schema, too long) says nothing of the model's health.
        const status = (error as { status?: number }).status
        if (breaker && !(status !== undefined && REQUEST_ERRORS.has(status))) {
          await this.parts.breakers.record(breakerName, false, breaker)
        }
        this.parts.metrics.aiCalls.inc({ model, result: 'error' })
        const message = this.scrub((error as Error)?.message ?? String(error))
        failures.push(`${model}: ${message}`)
        if (models.indexOf(model) < models.length - 1) {
          this.parts.log.warn('an AI model failed; trying the next one', { model, error: message })
        }
        continue
      }
      // Answered and paid for: from here on nothing may send it to the next model.
      if (breaker)
        await this.bestEffort('record the breaker', () => this.parts.breakers.record(breakerName, true, breaker))
      const completion = await this.account(model, response, buckets)
      if (cacheKey && this.settings.cacheTtl !== undefined && (request.accept?.(response) ?? true)) {
        const ttl = this.settings.cacheTtl
        const { response: r, model: m, usage } = completion
        await this.bestEffort('cache the answer', () =>
          this.parts.cache.set(
            cacheKey,
            { response: r, model: m, usage },
            { ttl, localTtl: Math.min(ttl, 60_000), maxSize: 10_000 },
          ),
        )
      }
      return completion
    }
    throw new AIUnavailableError(`no model could answer (${failures.join('; ')})`)
  }

  private async bestEffort(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work()
    } catch (error) {
      this.parts.log.warn(`could not ${what} after an AI call`, { error: this.scrub((error as Error).message) })
    }
  }

  /** Budgets count dollars: a model without a price would spend them unseen. */
  private checkPriced(model: string, scope: AIScope, buckets: readonly string[]): void {
    const budgeted = buckets.length > 0 || scope.run?.budget !== undefined
    if (budgeted && !priceOf(this.settings.prices, model)) {
      throw new AIBudgetConfigError(
        `AI model ${model} has no price, so a budget cannot count what it spends; add it to createRuntime({ ai: { prices: { '${model}': { input, output } } } }) — { input: 0, output: 0 } for a free one`,
      )
    }
  }

  private async ask(model: string, request: AIRequest): Promise<ChatResponse> {
    const controller = new AbortController()
    const { messages, tools, schema, temperature, maxTokens } = request
    const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal
    const call = this.settings.provider?.chat({
      model,
      messages,
      ...(tools?.length ? { tools } : {}),
      ...(schema ? { schema } : {}),
      ...(temperature === undefined ? {} : { temperature }),
      ...(maxTokens === undefined ? {} : { maxTokens }),
      signal,
    }) as Promise<ChatResponse>
    return withTimeLimit(this.parts.clock, call, request.timeout ?? this.settings.timeout, `AI model ${model}`, (e) =>
      controller.abort(e),
    )
  }

  /** Count tokens and cost, and add the cost to the budgets it falls under. */
  private async account(model: string, response: ChatResponse, buckets: readonly string[]): Promise<Completion> {
    const { usage } = response
    const priced = costOf(this.settings.prices, response.model, usage) ?? costOf(this.settings.prices, model, usage)
    if (priced === undefined && !this.unpriced.has(model)) {
      this.unpriced.add(model)
      this.parts.log.warn(
        'no price for this AI model: its cost counts as 0; add it to createRuntime({ ai: { prices } })',
        { model },
      )
    }
    const cost = priced ?? 0
    const { metrics, state, clock } = this.parts
    metrics.aiCalls.inc({ model, result: 'ok' })
    metrics.aiTokens.inc({ model, kind: 'input' }, usage.inputTokens)
    metrics.aiTokens.inc({ model, kind: 'output' }, usage.outputTokens)
    if (cost > 0) {
      metrics.aiCost.inc({ model }, cost)
      for (const bucket of buckets) {
        await state.update<number, number>(
          SPEND,
          bucket,
          (spent) => ({ value: (spent ?? 0) + cost, result: 0 }),
          clock.now(),
        )
      }
    }
    return { response, model, usage, cost, cached: false }
  }

  /** Refuse a call when a budget it falls under is spent; the buckets its cost goes to. */
  private async checkBudgets(scope: AIScope): Promise<string[]> {
    const { budget } = this.settings
    if (scope.run?.budget !== undefined && scope.run.spent >= scope.run.budget) {
      throw new AIBudgetError('run', scope.run.spent, scope.run.budget)
    }
    const period = periodOf(budget.period, this.parts.clock.now())
    const checks: { bucket: string; label: string; limit: number | undefined }[] = [
      { bucket: `business:${period}`, label: 'business', limit: budget.business },
    ]
    if (scope.service) {
      checks.push({
        bucket: `service:${scope.service}:${period}`,
        label: `service ${scope.service}`,
        limit: budget.services[scope.service],
      })
    }
    for (const { bucket, label, limit } of checks) {
      if (limit === undefined) continue
      const spent = (await this.parts.state.get<number>(SPEND, bucket)) ?? 0
      if (spent >= limit) throw new AIBudgetError(label, spent, limit)
    }
    return checks.filter((c) => c.limit !== undefined).map((c) => c.bucket)
  }

  /** Wait for the provider's rate limit (shared by every worker), or fail if it says so. */
  private async takeToken(provider: string): Promise<void> {
    const limit = this.settings.rateLimit
    if (!limit) return
    await this.parts.limiter.policy(`ai:${provider}`, limit).execute(() => undefined)
  }

  /** A provider's error may quote the key it was given; it is never passed on. */
  private scrub(message: string): string {
    const secrets = [...this.settings.secrets, ...(this.settings.provider?.secrets ?? [])].filter((s) => s.length >= 8)
    return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message)
  }

  private cacheKey(provider: string, models: readonly string[], request: AIRequest): string | undefined {
    if (this.settings.cacheTtl === undefined) return undefined
    const { messages, tools, schema, temperature, maxTokens } = request
    const hash = createHash('sha256')
      .update(JSON.stringify({ provider, models, messages, tools, schema, temperature, maxTokens }))
      .digest('hex')
    return `ai:${hash.slice(0, 40)}`
  }
}

/** The budget period a moment falls in: `2026-11-22`, `2026-11`, or `total`. */
function periodOf(period: 'day' | 'month' | 'total', now: number): string {
  if (period === 'total') return 'total'
  const iso = new Date(now).toISOString()
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7)
}
