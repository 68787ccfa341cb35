/**
 * `@bac/runtime`: executes a business definition durably.
 *
 * @example
 * import { createRuntime, load } from '@bac/runtime'
 * import { sqlite } from '@bac/runtime/sqlite'
 */
export type { AIConfig } from './ai/ai-config.ts'
export { type OpenAIProviderOptions, openaiProvider } from './ai/openai-provider.ts'
export { DEFAULT_PRICES, type ModelPrice } from './ai/prices.ts'
export type { AIProvider, ChatMessage, ChatRequest, ChatResponse, ToolCall, ToolSchema, Usage } from './ai/provider.ts'
export { type Fixture, type RecordedAI, type Recording, recordedAI } from './ai/recorded-provider.ts'
export type { Clock, Timer } from './clock/clock.ts'
export { realClock } from './clock/real-clock.ts'
export { type VirtualClock, virtualClock } from './clock/virtual-clock.ts'
export {
  RuntimeStateError,
  SagaCompensatedError,
  SagaCompensationFailedError,
  TimeoutError,
  UnknownOperationError,
  UnknownTargetError,
} from './errors.ts'
export type { HealthReport, ServiceHealth } from './health.ts'
export { type JsonLoggerOptions, jsonLogger, type LogLevel } from './json-logger.ts'
export { businessName, type LoadOptions, load, resolveEntry } from './load.ts'
export { BulkheadRejectedError, bulkhead } from './policies/bulkhead.ts'
export { type BreakerPhase, BrokenCircuitError } from './policies/circuit-breaker.ts'
export { fallback } from './policies/fallback.ts'
export { type Policy, type PolicyContext, wrap } from './policies/policy.ts'
export { RateLimitError } from './policies/rate-limiter.ts'
export { retry } from './policies/retry.ts'
export type { RuntimePolicies } from './policies/runtime-policies.ts'
export { timeout } from './policies/timeout.ts'
export { backoff, DEFAULT_RETRY, retryDecision } from './retry-policy.ts'
export { createRuntime, type RunDetail, type Runtime, type RuntimeOptions } from './runtime.ts'
export type {
  AttemptRecord,
  DeadLetterRecord,
  DeploymentRecord,
  DeploymentSummary,
  ErrorInfo,
  EventRecord,
  RunKind,
  RunQuery,
  RunRecord,
  RunStatus,
  ScheduleRecord,
  StepRecord,
  Store,
  Wait,
} from './store/store.ts'
export { RUN_KINDS, RUN_STATUSES } from './store/store.ts'
export type { MetricsSnapshot } from './telemetry/metrics.ts'
