/**
 * `$.service({...})`: a service with its own operations, HTTP endpoints, event handlers, jobs,
 * data, health check and metrics, in the shapes of the seeds. Operations are callable as
 * `send($.Email.send, input)`, `$.rpc.EmailService.send(input)`, `EmailService.send(input)`
 * and over HTTP; their input and output are validated against their contracts.
 *
 * An operation is a function `(input, ctx) => output`, or `{ input, output, handler }` whose
 * schemas are zod or the seeds' field specs. It implements the verb `<subject>.<name>`, where
 * the subject is the service name without a trailing "Service"/"API" (`EmailService` → `Email`)
 * unless given as `subject`, or the verb it names with `verb: $.Email.send`. Operations named
 * `_x` are internal to the service.
 *
 * @example
 * export const EmailService = $.service({
 *   name: 'EmailService',
 *   version: '1.0.0',
 *   operations: {
 *     send: {
 *       input: { to: { type: 'string', format: 'email', required: true }, subject: { type: 'string', required: true } },
 *       output: { messageId: { type: 'string' } },
 *       handler: async (email) => ({ messageId: await smtp.send(email) }),
 *     },
 *   },
 *   handlers: { [$.User.registered]: (user: User) => send($.Email.send, welcome(user)) },
 *   jobs: { digest: { schedule: 'Monday at 9am', handler: sendDigest } },
 * })
 */
import semver from 'semver'
import { agentDefinition } from './agent.ts'
import type { CacheControl } from './cache-control.ts'
import { type CollectionHandle, isCollectionHandle, ownedBy } from './collection.ts'
import { activeCollector, DECLARES, type Declared, declares } from './collector.ts'
import { type CallOptions, type Context, current } from './context.ts'
import type {
  AnyFunction,
  CollectionDefinition,
  Declaration,
  EndpointDefinition,
  HealthDefinition,
  HttpMethod,
  OperationDefinition,
  ServiceDefinition,
} from './definition.ts'
import { toMilliseconds } from './duration.ts'
import { DeclarationError } from './errors.ts'
import { scheduleDefinition } from './every.ts'
import { isMetric, type Metric } from './metric.ts'
import { assertFunction, handlerDefinition, sourceField } from './on.ts'
import { POLICY_KEYS, type PolicyInput, policyOptions } from './options.ts'
import { isRef, type Ref, refPath } from './ref.ts'
import { type FieldSpec, type Schema, type SchemaLike, toSchema } from './schema.ts'
import { sendsOf } from './sends-of.ts'
import { didYouMean } from './suggest.ts'
import type { Bivariant, Duration, EventName, Events } from './types.ts'

/** The subset of hono's `Context` that endpoints are typed against. */
export interface EndpointContext {
  readonly req: {
    param(name: string): string
    query(name: string): string | undefined
    header(name: string): string | undefined
    json<T = unknown>(): Promise<T>
    readonly method: string
    readonly path: string
  }
  json(data: unknown, status?: number): Response
  text(text: string, status?: number): Response
}

export type Endpoint = (c: EndpointContext) => unknown

/** An operation as declared: a function, or its contract and handler. */
export type OperationSpec<I = unknown, O = unknown> =
  | ((input: I, ctx: Context) => O)
  | (PolicyInput<I> & {
      readonly input?: Schema<I> | Readonly<Record<string, FieldSpec | Schema>>
      readonly output?: SchemaLike
      readonly handler: (input: I, ctx: Context) => O
      /** The verb this operation implements, when not `<subject>.<name>`. */
      readonly verb?: Ref | string
      readonly description?: string
    })

type LooseOperation = Bivariant<[input: never, ctx: Context], unknown> | { readonly handler: AnyFunction }

/** `handlers` of a service: event pattern → handler (typed for string keys of `Events`). */
export type ServiceHandlers = {
  readonly [K in EventName]?: Bivariant<[payload: Events[K], ctx: Context], unknown>
} & { readonly [pattern: string]: Bivariant<[payload: unknown, ctx: Context], unknown> | undefined }

export interface JobSpec extends PolicyInput {
  readonly schedule: string | { readonly cron: string }
  readonly handler: AnyFunction
  readonly timezone?: string
}

export interface HealthSpec {
  readonly check: () => unknown
  /** Time between checks (default 30 s). */
  readonly interval?: Duration
}

/** Everything of `$.service({...})` except `operations`, which is typed separately. */
export interface ServiceOptions extends PolicyInput {
  readonly name?: string
  readonly version?: string
  readonly type?: 'api' | 'event' | 'worker' | 'agent' | 'storage' | 'command' | 'query' | (string & {})
  readonly description?: string
  /** The noun of its verbs (default: the name without "Service"/"API"). */
  readonly subject?: string | Ref
  readonly capabilities?: Readonly<Record<string, LooseOperation>>
  readonly commands?: Readonly<Record<string, LooseOperation>>
  readonly queries?: Readonly<Record<string, LooseOperation>>
  readonly endpoints?: Readonly<Record<string, Endpoint>>
  readonly handlers?: ServiceHandlers
  readonly jobs?: Readonly<Record<string, JobSpec>>
  readonly data?: Readonly<Record<string, { readonly definition: CollectionDefinition }>>
  readonly health?: HealthSpec | (() => unknown)
  readonly metrics?: Readonly<Record<string, Metric>>
  readonly versions?: Readonly<Record<string, ServiceLike>>
  /** For `type: 'agent'`: turns the service into an agent whose tools are its capabilities. */
  readonly instructions?: string
  readonly model?: string
  readonly tools?: readonly string[] | Readonly<Record<string, unknown>>
  readonly maxTurns?: number
  readonly budget?: number
  readonly [meta: string]: unknown
}

type Caller<F> = F extends (input: infer A, ...rest: never[]) => infer R
  ? (input: A, options?: CallOptions) => Promise<Awaited<R>>
  : F extends { readonly handler: (input: infer A, ...rest: never[]) => infer R }
    ? (input: A, options?: CallOptions) => Promise<Awaited<R>>
    : never

type GroupCallers<G> = G extends Readonly<Record<string, unknown>> ? { readonly [K in keyof G]: Caller<G[K]> } : unknown

/** Any service, whatever its operations. */
export type ServiceLike = Declared & {
  readonly kind: 'service'
  readonly name: string
  readonly definition: ServiceDefinition
}

/** What `$.service` returns: its definition, owned data, metrics, cache control, and operations. */
export type Service<
  I extends Record<string, unknown> = Record<string, unknown>,
  O extends Record<string, unknown> = Record<string, unknown>,
  D extends ServiceOptions = ServiceOptions,
> = Declared & {
  readonly kind: 'service'
  readonly name: D['name'] extends string ? D['name'] : string
  readonly version: D['version']
  readonly definition: ServiceDefinition
  readonly data: D['data'] extends object ? D['data'] : Record<string, never>
  readonly metrics: D['metrics'] extends object ? D['metrics'] : Record<string, never>
  readonly cache: CacheControl & Readonly<Record<string, unknown>>
} & (D['instructions'] extends string
    ? {
        /** A service with `instructions` (`type: 'agent'`) runs as an agent on a message, its operations its tools. */
        readonly run: (message: unknown, options?: CallOptions) => Promise<unknown>
      }
    : unknown) & {
    readonly [K in keyof I & keyof O]: (input: I[K], options?: CallOptions) => Promise<Awaited<O[K]>>
  } & GroupCallers<D['capabilities']> &
  GroupCallers<D['commands']> &
  GroupCallers<D['queries']>

const OWN_KEYS = [
  'name',
  'version',
  'type',
  'description',
  'subject',
  'operations',
  'capabilities',
  'commands',
  'queries',
  'endpoints',
  'handlers',
  'jobs',
  'data',
  'health',
  'metrics',
  'versions',
  'instructions',
  'model',
  'tools',
  'maxTurns',
  'budget',
  ...POLICY_KEYS,
]

/** Keys from the seeds the runtime keeps as metadata without acting on them. */
const META_KEYS = ['deployment', 'security', 'tracing', 'logging', 'middleware', 'database', 'rbac', 'docs', 'tags']

const OPERATION_GROUPS = ['operations', 'capabilities', 'commands', 'queries'] as const
const OPERATION_KEYS = ['input', 'output', 'handler', 'verb', 'description', ...POLICY_KEYS]

/** Members of the returned object; an operation may not shadow them. */
const RESERVED = ['kind', 'name', 'version', 'definition', 'data', 'metrics', 'cache', 'key', 'subject', 'type']

const METHODS = new Set<HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ALL'])

/** `'Email Delivery Service'` → `'EmailDeliveryService'`. */
export function serviceKey(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('')
}

/** The noun of a service's verbs, unless it names one: its key without "Service"/"API" (`EmailService` → `Email`). */
export function serviceSubject(key: string): string {
  return key.replace(/(?:Service|API|Api)$/, '') || key
}

export function service<
  I extends Record<string, unknown>,
  O extends Record<string, unknown>,
  const D extends ServiceOptions,
>(
  input: D & { readonly operations?: { readonly [K in keyof I & keyof O]: OperationSpec<I[K], O[K]> } },
): Service<I, O, D> {
  if (typeof input !== 'object' || input === null) {
    throw new DeclarationError(
      `$.service(): expected an object such as { name, operations }, got ${JSON.stringify(input)}`,
    )
  }
  const name = serviceName(input)
  const place = `$.service('${name}')`
  checkKeys(input, place)
  const version = checkVersion(input.version, place)
  const key = serviceKey(name)
  const subject = input.subject === undefined ? serviceSubject(key) : refPath(input.subject)
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(subject)) {
    throw new DeclarationError(`${place}: subject must be a noun such as 'Email', got "${subject}"`)
  }
  const collector = activeCollector()
  const extra: Declaration[] = []

  const operations = operationDefinitions(input, { name, subject, place })
  const handlers = Object.entries(input.handlers ?? {}).map(([pattern, spec]) => {
    const { handler, ...options } = (typeof spec === 'function' ? { handler: spec } : spec) as { handler?: unknown }
    return handlerDefinition(pattern, handler, options, `${place} handlers['${pattern}']`, name)
  })
  const jobs = Object.entries(input.jobs ?? {}).map(([job, spec]) => {
    const { schedule, handler, ...options } = (spec ?? {}) as Partial<JobSpec>
    const jobPlace = `${place} jobs.${job}`
    if (schedule === undefined) throw new DeclarationError(`${jobPlace}: a job needs a schedule, e.g. '0 9 * * 1'`)
    return scheduleDefinition(schedule, handler, options, jobPlace, { name: `${name}.${job}`, service: name })
  })
  const data = ownData(input.data, name, place)
  const metrics = serviceMetrics(input.metrics, place)
  const versions = versionRoutes(input.versions, name, place)
  if (versions && operations.length > 0) {
    throw new DeclarationError(`${place}: a service with versions routes to them; declare operations in the versions`)
  }
  const agent = input.instructions !== undefined ? agentDefinition({ ...input, name }, place, operations) : undefined
  if (agent) extra.push(agent)

  const definition: ServiceDefinition = Object.freeze({
    kind: 'service',
    name,
    key,
    subject,
    ...(version ? { version } : {}),
    ...(typeof input.type === 'string' ? { type: input.type } : {}),
    ...(typeof input.description === 'string' ? { description: input.description } : {}),
    operations: Object.freeze(operations),
    endpoints: Object.freeze(endpointDefinitions(input.endpoints, name, place)),
    handlers: handlers.map((h) => h.name),
    jobs: jobs.map((j) => j.name),
    collections: Object.values(data).map((c) => c.definition.name),
    ...healthField(input.health, place),
    metrics: metrics.map((m) => m.definition),
    ...(versions ? { versions: Object.freeze(Object.fromEntries(versions.map(([r, s]) => [r, s.definition]))) } : {}),
    policies: policyOptions(pickPolicies(input), place),
    meta: Object.freeze(Object.fromEntries(META_KEYS.filter((k) => k in input).map((k) => [k, input[k]]))),
    ...sourceField(),
  })

  checkVerbs(definition, collector.services())
  for (const [, version] of versions ?? []) for (const d of version[DECLARES]) collector.include(d)
  const declarations: Declaration[] = [
    definition,
    ...handlers,
    ...jobs,
    ...Object.values(data).map((c) => c.definition),
    ...metrics.map((m) => m.definition),
    ...extra,
  ]
  for (const declaration of declarations) collector.add(declaration)
  return serviceObject(definition, input, data, declarations) as Service<I, O, D>
}

function serviceName(input: ServiceOptions): string {
  if (typeof input.name === 'string' && input.name.trim() !== '') return input.name
  if (input.name !== undefined) {
    throw new DeclarationError(`$.service(): name must be a non-empty string, got ${JSON.stringify(input.name)}`)
  }
  const names = new Set(Object.values(input.versions ?? {}).map((v) => (v as Partial<ServiceLike> | undefined)?.name))
  const [only] = names
  if (names.size === 1 && typeof only === 'string') return only
  throw new DeclarationError(
    `$.service(): a service needs a name, e.g. $.service({ name: 'EmailService', operations: {...} })`,
  )
}

function checkKeys(input: object, place: string): void {
  const known = [...OWN_KEYS, ...META_KEYS]
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new DeclarationError(
        `${place}: unknown key "${key}"${didYouMean(key, known)}; a service takes ${OWN_KEYS.join(', ')}`,
      )
    }
  }
}

function checkVersion(version: unknown, place: string): string | undefined {
  if (version === undefined) return undefined
  if (typeof version !== 'string' || !semver.valid(version)) {
    throw new DeclarationError(`${place}: version must be semver such as '1.2.0', got ${JSON.stringify(version)}`)
  }
  return version
}

function operationDefinitions(
  input: ServiceOptions & { readonly operations?: unknown },
  service: { readonly name: string; readonly subject: string; readonly place: string },
): OperationDefinition[] {
  const seen = new Map<string, string>()
  const out: OperationDefinition[] = []
  for (const group of OPERATION_GROUPS) {
    const specs = input[group] as Readonly<Record<string, unknown>> | undefined
    if (specs === undefined) continue
    if (typeof specs !== 'object' || specs === null) {
      throw new DeclarationError(`${service.place}: ${group} must be an object of name → operation`)
    }
    for (const [name, spec] of Object.entries(specs)) {
      const place = `${service.place} ${group}.${name}`
      if (seen.has(name)) throw new DeclarationError(`${place}: "${name}" is already declared in ${seen.get(name)}`)
      if (RESERVED.includes(name)) {
        throw new DeclarationError(`${place}: "${name}" is a member of every service object; rename the operation`)
      }
      seen.set(name, group)
      out.push(operationDefinition(name, spec, service, place))
    }
  }
  return out
}

function operationDefinition(
  name: string,
  spec: unknown,
  service: { readonly name: string; readonly subject: string },
  place: string,
): OperationDefinition {
  if (isRef(spec)) {
    throw new DeclarationError(
      `${place}: an operation needs a handler; got only the reference ${spec.path}. ` +
        `Write ${name}: { verb: $.${spec.path}, handler: async (input) => ... }`,
    )
  }
  const object = typeof spec === 'function' ? { handler: spec } : spec
  if (typeof object !== 'object' || object === null) {
    throw new DeclarationError(
      `${place}: an operation is a function or { input, output, handler }, got ${JSON.stringify(spec)}`,
    )
  }
  const { input, output, handler, verb, description, ...policies } = object as Record<string, unknown>
  for (const key of Object.keys(policies)) {
    if (!OPERATION_KEYS.includes(key)) {
      throw new DeclarationError(
        `${place}: unknown key "${key}"${didYouMean(key, OPERATION_KEYS)}; an operation takes ${OPERATION_KEYS.join(', ')}`,
      )
    }
  }
  if (handler === undefined) {
    throw new DeclarationError(
      `${place}: an operation needs a handler: { input, output, handler: async (input) => ... }`,
    )
  }
  assertFunction(handler, place)
  return Object.freeze({
    kind: 'operation',
    name,
    service: service.name,
    verb: verb === undefined ? `${service.subject}.${name}` : refPath(verb as string),
    internal: name.startsWith('_'),
    handler,
    ...(input === undefined ? {} : { input: toSchema(input, `${place} input`) }),
    ...(output === undefined ? {} : { output: toSchema(output, `${place} output`) }),
    ...(typeof description === 'string' ? { description } : {}),
    options: policyOptions(policies, place, OPERATION_KEYS),
    sends: sendsOf(handler as AnyFunction),
  })
}

function endpointDefinitions(endpoints: unknown, service: string, place: string): EndpointDefinition[] {
  return Object.entries((endpoints ?? {}) as Record<string, unknown>).map(([route, handler]) => {
    const match = /^([A-Za-z]+)\s+(\/\S*)$/.exec(route.trim())
    const method = match?.[1]?.toUpperCase() as HttpMethod | undefined
    if (!match?.[2] || !method || !METHODS.has(method)) {
      throw new DeclarationError(
        `${place} endpoints['${route}']: expected 'METHOD /path' such as 'GET /products/:id' (methods: ${[...METHODS].join(', ')})`,
      )
    }
    assertFunction(handler, `${place} endpoints['${route}']`)
    return Object.freeze({ kind: 'endpoint', method, path: match[2], handler, service })
  })
}

function ownData(data: unknown, service: string, place: string): Record<string, CollectionHandle> {
  const owned: Record<string, CollectionHandle> = {}
  for (const [field, value] of Object.entries((data ?? {}) as Record<string, unknown>)) {
    if (!isCollectionHandle(value)) {
      throw new DeclarationError(`${place} data.${field}: expected $.db.collection('${field}'), got ${typeof value}`)
    }
    if (value.definition.owner && value.definition.owner !== service) {
      throw new DeclarationError(
        `${place} data.${field}: collection "${value.definition.name}" is owned by ${value.definition.owner}`,
      )
    }
    owned[field] = ownedBy(value, service)
  }
  return owned
}

function serviceMetrics(metrics: unknown, place: string): Metric[] {
  return Object.entries((metrics ?? {}) as Record<string, unknown>).map(([field, value]) => {
    if (!isMetric(value)) {
      throw new DeclarationError(`${place} metrics.${field}: expected $.metric.counter|gauge|histogram|summary(...)`)
    }
    return value
  })
}

function versionRoutes(versions: unknown, name: string, place: string): [string, ServiceLike][] | undefined {
  if (versions === undefined) return undefined
  const routes = Object.entries(versions as Record<string, unknown>)
  if (routes.length === 0) throw new DeclarationError(`${place}: versions is empty`)
  return routes.map(([range, value]) => {
    const at = `${place} versions['${range}']`
    if (!semver.validRange(range)) throw new DeclarationError(`${at}: "${range}" is not a semver range such as '1.x'`)
    const target = value as Partial<ServiceLike> | undefined
    if (target?.kind !== 'service' || !target.definition) {
      throw new DeclarationError(`${at}: expected a service made with $.service({...})`)
    }
    const version = target.definition.version
    if (target.definition.name !== name) {
      throw new DeclarationError(`${at}: routes to service "${target.definition.name}", not "${name}"`)
    }
    if (!version || !semver.satisfies(version, range)) {
      throw new DeclarationError(`${at}: service version ${version ?? '(none)'} does not satisfy "${range}"`)
    }
    return [range, target as ServiceLike]
  })
}

function healthField(health: unknown, place: string): { health?: HealthDefinition } {
  if (health === undefined) return {}
  const spec: Partial<HealthSpec> =
    typeof health === 'function' ? { check: health as () => unknown } : (health as Partial<HealthSpec>)
  assertFunction(spec?.check, `${place} health`, 'check')
  const interval = toMilliseconds(spec.interval ?? 30_000, `${place} health.interval`)
  return { health: Object.freeze({ check: spec.check, interval }) }
}

function pickPolicies(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(POLICY_KEYS.filter((k) => k in input).map((k) => [k, input[k]]))
}

/** Two services (not versions of one) implementing the same public verb would make `send` ambiguous. */
function checkVerbs(definition: ServiceDefinition, others: readonly ServiceDefinition[]): void {
  for (const operation of definition.operations) {
    if (operation.internal) continue
    const other = others.find(
      (s) => s.name !== definition.name && s.operations.some((o) => !o.internal && o.verb === operation.verb),
    )
    if (other) {
      throw new DeclarationError(
        `$.service('${definition.name}') operations.${operation.name}: verb "${operation.verb}" is already implemented by service "${other.name}"; give one of them another verb or subject`,
      )
    }
  }
}

function serviceObject(
  definition: ServiceDefinition,
  input: Readonly<Record<string, unknown>>,
  data: Record<string, CollectionHandle>,
  declarations: readonly Declaration[],
): object {
  const { name, version } = definition
  const call = (operation: string) => (payload: unknown, options?: CallOptions) =>
    current(`${name}.${operation}()`).call(
      name,
      operation,
      payload,
      version && !options?.version ? { ...options, version } : options,
    )
  const cacheConfig = typeof input.cache === 'object' && input.cache !== null ? input.cache : {}
  const cache: CacheControl = {
    invalidate: (key) => current(`${name}.cache.invalidate()`).cache.invalidate(key),
    invalidatePattern: (pattern) => current(`${name}.cache.invalidatePattern()`).cache.invalidatePattern(pattern),
  }
  const members = {
    kind: 'service',
    name,
    version,
    definition,
    data: Object.freeze(data),
    metrics: Object.freeze(Object.fromEntries(Object.entries((input.metrics ?? {}) as object))),
    cache: Object.freeze({ ...cacheConfig, ...cache }),
    ...(input.instructions === undefined
      ? {}
      : {
          run: (message: unknown, options?: CallOptions) =>
            current(`${name}.run()`).execute('agent', name, message, options),
        }),
    ...Object.fromEntries(definition.operations.map((op) => [op.name, call(op.name)])),
  }
  return Object.freeze(declares(members, declarations))
}
