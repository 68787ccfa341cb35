/**
 * `@bac/sdk`: declare a business as TypeScript. Import `$` (default export) and the verbs;
 * run it with `bac dev` or `createRuntime` from `@bac/runtime`.
 *
 * @example
 * import $, { on, send, every, db, ai } from '@bac/sdk'
 */
import { $ } from './vocabulary.ts'

export type { Agent, AgentInput, ToolSpec } from './agent.ts'
export { BUILTIN_TOOLS } from './agent.ts'
export type {
  Ai,
  Classification,
  DecideOptions,
  Decision,
  GenerateOptions,
  GenerateResult,
  ModelOptions,
} from './ai.ts'
export { ai } from './ai.ts'
export { send, sleep, sleepUntil, step, waitForEvent } from './ambient.ts'
export type { CacheControl } from './cache-control.ts'
export type { CollectionHandle } from './collection.ts'
export { business, type Declared, use } from './collector.ts'
export type { Composable, Composition, ConditionalInput } from './compose.ts'
export type {
  CallOptions,
  Context,
  EventEnvelope,
  ExecutableKind,
  RunInfo,
  StepOptions,
  WaitForEventOptions,
} from './context.ts'
export type {
  AmbientDb,
  Collection,
  ConditionalWrite,
  Db,
  Doc,
  Page,
  Patch,
  Query,
  QueryOptions,
  Transaction,
  TransactionOptions,
  TypeRef,
  WriteOptions,
} from './db.ts'
export { db } from './db.ts'
export type * from './definition.ts'
export { type BusinessDescription, describe, jsonSchema } from './describe.ts'
export {
  BacError,
  ConflictError,
  DeclarationError,
  isConflictError,
  isDeclarationError,
  isNonRetryableError,
  isNoRuntimeError,
  isSagaCompensatedError,
  isTimeoutError,
  isValidationError,
  NonRetryableError,
  NoRuntimeError,
  TimeoutError,
  ValidationError,
  type ValidationIssue,
} from './errors.ts'
export { type EventSchemas, type EventsOf, events, type TypedEvents } from './events.ts'
export { every, type Job, type ScheduleBuilder, type ScheduleOptions } from './every.ts'
export { type LogFields, type Logger, log } from './logger.ts'
export type { Labels, Metric, MetricDefinition, MetricKind, MetricRecorder } from './metric.ts'
export { type Handler, on } from './on.ts'
export type {
  CacheInput,
  CacheOptions,
  CircuitBreakerInput,
  CircuitBreakerOptions,
  DebounceOptions,
  HandlerInput,
  HandlerOptions,
  PolicyInput,
  PolicyOptions,
  RateLimitInput,
  RateLimitOptions,
  RetryInput,
  RetryOptions,
} from './options.ts'
export { matches } from './pattern.ts'
export { type EventRef, isRef, type Ref, ref, type SendOptions } from './ref.ts'
export type { Saga, SagaInput, SagaStep } from './saga.ts'
export { parseSchedule, type Schedule } from './schedule.ts'
export type { FieldSpec, Infer, Schema, SchemaLike } from './schema.ts'
export type { EndpointContext, OperationSpec, Service, ServiceLike, ServiceOptions } from './service.ts'
export type {
  Collections,
  Duration,
  EventName,
  Events,
  OperationName,
  Operations,
  PayloadOf,
  PayloadOfPattern,
  Untyped,
} from './types.ts'
export type { DbSugar, SubjectRef, Vocabulary } from './vocabulary.ts'
export { $ }
export default $
export {
  AgentTurnLimitError,
  AIBudgetError,
  AIOutputError,
  AIUnavailableError,
  isAgentTurnLimitError,
  isAIBudgetError,
  isAIOutputError,
  isAIUnavailableError,
} from './ai-errors.ts'
export { isSecretField, PERSONAL_FIELDS, SECRET_FIELDS, scrubText } from './secrets.ts'
export { type WithFallbackOptions, withFallback } from './with-fallback.ts'
