/**
 * How a runtime talks to models: `createRuntime({ ai })`, filled in from the environment
 * (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `BAC_AI_MODEL`). Checked once, at start: a typo is an
 * error naming the field, never a silent default at the first call.
 *
 * @example
 * createRuntime({ business, ai: { model: 'gpt-4o-mini', models: ['gpt-4o-mini', 'gpt-4.1-mini'], budget: { business: 50, run: 0.5 } } })
 */
import type { CircuitBreakerInput, CircuitBreakerOptions, Duration, RateLimitInput, RateLimitOptions } from '@bac/sdk'
import { policyOptions, toMilliseconds, validate } from '@bac/sdk/internal'
import { z } from 'zod'
import { openaiProvider } from './openai-provider.ts'
import { DEFAULT_PRICES, type ModelPrice } from './prices.ts'
import type { AIProvider } from './provider.ts'

export interface AIConfig {
  /** Default: the `openai` client, when an API key or base URL is given (or in the environment). */
  readonly provider?: AIProvider
  readonly apiKey?: string
  readonly baseURL?: string
  /** The model calls use unless they name one (default `BAC_AI_MODEL`, else `gpt-4o-mini`). */
  readonly model?: string
  /** Models to fail over to, in order, after the call's own. */
  readonly models?: readonly string[]
  /** How long one model may take (default 60 s). */
  readonly timeout?: Duration
  /** How long answers are reused for the same model, prompt and schema (default 1 h; `false`: never). */
  readonly cache?: false | Duration
  /** US dollars that may be spent per business, per service, per run; `period` for the first two (default month). */
  readonly budget?: {
    readonly business?: number
    readonly services?: Readonly<Record<string, number>>
    readonly run?: number
    readonly period?: 'day' | 'month' | 'total'
  }
  /** A limit on calls to the provider, shared by every worker (over it, calls wait). */
  readonly rateLimit?: RateLimitInput
  /** A breaker per model (default on: 5 failures in a row open it for 30 s); `false` for none. */
  readonly circuitBreaker?: boolean | CircuitBreakerInput
  /** Prices per million tokens, on top of the built-in list. */
  readonly prices?: Readonly<Record<string, ModelPrice>>
}

export interface AISettings {
  readonly provider?: AIProvider
  /** Values never to write anywhere (the API key), scrubbed from error messages. */
  readonly secrets: readonly string[]
  readonly model: string
  readonly models: readonly string[]
  readonly timeout: number
  readonly cacheTtl?: number
  readonly budget: {
    readonly business?: number
    readonly services: Readonly<Record<string, number>>
    readonly run?: number
    readonly period: 'day' | 'month' | 'total'
  }
  readonly rateLimit?: RateLimitOptions
  readonly circuitBreaker?: CircuitBreakerOptions
  readonly prices: Readonly<Record<string, ModelPrice>>
}

const usd = z.number().nonnegative()
const duration = z.union([z.number().nonnegative(), z.string()])
const shape = z.strictObject({
  provider: z
    .custom<AIProvider>((p) => typeof (p as AIProvider | undefined)?.chat === 'function', 'an AIProvider')
    .optional(),
  apiKey: z.string().optional(),
  baseURL: z.url().optional(),
  model: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).optional(),
  timeout: duration.optional(),
  cache: z.union([z.literal(false), duration]).optional(),
  budget: z
    .strictObject({
      business: usd.optional(),
      services: z.record(z.string(), usd).optional(),
      run: usd.optional(),
      period: z.enum(['day', 'month', 'total']).optional(),
    })
    .optional(),
  rateLimit: z.unknown().optional(),
  circuitBreaker: z.unknown().optional(),
  prices: z.record(z.string(), z.strictObject({ input: usd, output: usd })).optional(),
})

export function aiSettings(config: AIConfig = {}, env: NodeJS.ProcessEnv = process.env): AISettings {
  const input = validate(shape, config, 'createRuntime() ai')
  const apiKey = input.apiKey ?? env.OPENAI_API_KEY
  const baseURL = input.baseURL ?? env.OPENAI_BASE_URL
  const provider =
    input.provider ??
    (apiKey || baseURL ? openaiProvider({ ...(apiKey ? { apiKey } : {}), ...(baseURL ? { baseURL } : {}) }) : undefined)
  const policies = policyOptions(
    { circuitBreaker: input.circuitBreaker ?? true, ...(input.rateLimit ? { rateLimit: input.rateLimit } : {}) },
    'createRuntime() ai',
  )
  const model = input.model ?? env.BAC_AI_MODEL ?? 'gpt-4o-mini'
  const cache = input.cache ?? '1h'
  return {
    ...(provider ? { provider } : {}),
    secrets: apiKey ? [apiKey] : [],
    model,
    models: input.models ?? [],
    timeout: toMilliseconds(input.timeout ?? '60s', 'createRuntime() ai.timeout'),
    ...(cache === false ? {} : { cacheTtl: toMilliseconds(cache, 'createRuntime() ai.cache') }),
    budget: {
      ...(input.budget?.business === undefined ? {} : { business: input.budget.business }),
      services: input.budget?.services ?? {},
      ...(input.budget?.run === undefined ? {} : { run: input.budget.run }),
      period: input.budget?.period ?? 'month',
    },
    ...(policies.rateLimit ? { rateLimit: policies.rateLimit } : {}),
    ...(policies.circuitBreaker ? { circuitBreaker: policies.circuitBreaker } : {}),
    prices: { ...DEFAULT_PRICES, ...input.prices },
  }
}
