/**
 * Collecting declarations into a business definition. Declarations (`on`, `every`,
 * `$.service`, ...) add themselves to the collector bound where they run:
 *
 * - explicit: `business('shop', () => { on(...) })` returns the definition;
 * - ambient: `load('./shop.ts')` (runtime) imports the module inside `collect()`, so its
 *   top-level declarations, and those of the modules it imports, are collected;
 * - anywhere else (a module imported by a unit test): a process-wide default collector, so
 *   importing a business module never throws.
 *
 * Collectors are bound through AsyncLocalStorage kept on `globalThis`, so two businesses
 * loaded in one process never see each other's declarations, and a second copy of this module
 * (as `load()` may create) shares the binding.
 *
 * @example
 * const shop = business('shop', () => {
 *   on($.Order.created, sendReceipt)
 *   every('Monday at 9am', weeklyReport)
 * })
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { BusinessDefinition, Declaration, ServiceDefinition } from './definition.ts'
import { DeclarationError } from './errors.ts'
import { processSingleton } from './process-singleton.ts'
import type { Schema } from './schema.ts'

type ListKey = 'handlers' | 'schedules' | 'services' | 'sagas' | 'compositions' | 'agents' | 'metrics' | 'collections'

const LIST_OF: Readonly<Record<Declaration['kind'], ListKey>> = {
  handler: 'handlers',
  schedule: 'schedules',
  service: 'services',
  saga: 'sagas',
  composition: 'compositions',
  agent: 'agents',
  counter: 'metrics',
  gauge: 'metrics',
  histogram: 'metrics',
  summary: 'metrics',
  collection: 'collections',
}

/** What a declaration is called in messages. */
const NOUN: Readonly<Record<ListKey, string>> = {
  handlers: 'handler',
  schedules: 'schedule',
  services: 'service',
  sagas: 'saga',
  compositions: 'composition',
  agents: 'agent',
  metrics: 'metric',
  collections: 'collection',
}

/** The identity of a declaration within its list: two with the same identity collide. */
function identity(declaration: Declaration): string {
  if (declaration.kind !== 'service') return declaration.name
  if (declaration.versions) return `${declaration.name} (version router)`
  return declaration.version ? `${declaration.name}@${declaration.version}` : declaration.name
}

/** Accumulates one business's declarations, checking uniqueness as they arrive. */
export class Collector {
  private readonly lists: { [K in ListKey]: Declaration[] } = {
    handlers: [],
    schedules: [],
    services: [],
    sagas: [],
    compositions: [],
    agents: [],
    metrics: [],
    collections: [],
  }
  private readonly events = new Map<string, Schema>()
  private readonly added = new Set<Declaration>()
  private closed = false

  constructor(readonly name: string) {}

  /** Add a declaration; a second one with the same name (and version) is a `DeclarationError`. */
  add(declaration: Declaration): void {
    this.assertOpen(declaration)
    if (this.added.has(declaration)) return
    const key = LIST_OF[declaration.kind]
    const list = this.lists[key]
    const id = identity(declaration)
    const clash = list.find((other) => identity(other) === id)
    if (clash?.kind === 'collection' && declaration.kind === 'collection') {
      // A collection is declared (`$.db.collection`), then owned by the service that lists it.
      if (!clash.owner) {
        if (declaration.owner || declaration.schema) list.splice(list.indexOf(clash), 1, declaration)
        this.added.add(declaration)
        return
      }
      if (!declaration.owner) return
    }
    // The same metric name declared twice is one time series, as in Prometheus; only a change
    // of kind is a conflict.
    if (clash && key === 'metrics' && clash.kind === declaration.kind) return
    if (clash) {
      const where = (d: Declaration) => ('source' in d && d.source ? ` at ${d.source}` : '')
      throw new DeclarationError(
        `duplicate ${NOUN[key]} "${id}" in business "${this.name}": declared${where(clash)} and again${where(declaration)}. ` +
          `Give each ${NOUN[key]} its own name${key === 'services' ? ' (or a distinct version)' : ''}.`,
      )
    }
    this.checkVersionMix(declaration, list)
    list.push(declaration)
    this.added.add(declaration)
  }

  /** Add unless this very declaration is already here (used for referenced declarations). */
  include(declaration: Declaration): void {
    if (!this.added.has(declaration)) this.add(declaration)
  }

  /** A name not taken in `list`: `base`, else `base#2`, `base#3`... */
  uniqueName(kind: Declaration['kind'], base: string): string {
    const taken = new Set(this.lists[LIST_OF[kind]].map((d) => d.name))
    if (!taken.has(base)) return base
    let n = 2
    while (taken.has(`${base}#${n}`)) n++
    return `${base}#${n}`
  }

  /** The services declared so far. */
  services(): readonly ServiceDefinition[] {
    return this.lists.services as ServiceDefinition[]
  }

  has(kind: Declaration['kind'], name: string): boolean {
    return this.lists[LIST_OF[kind]].some((d) => d.name === name)
  }

  /** Register the schema of an event; registering a different one for the same event is an error. */
  addEvent(name: string, schema: Schema): void {
    this.assertOpen()
    const known = this.events.get(name)
    if (known && known !== schema) {
      throw new DeclarationError(`events(): "${name}" already has a schema in business "${this.name}"`)
    }
    this.events.set(name, schema)
  }

  /** The collected definition, frozen. The collector accepts nothing afterwards. */
  finish(): BusinessDefinition {
    this.closed = true
    return Object.freeze({
      name: this.name,
      handlers: Object.freeze([...this.lists.handlers]),
      schedules: Object.freeze([...this.lists.schedules]),
      services: Object.freeze([...this.lists.services]),
      sagas: Object.freeze([...this.lists.sagas]),
      compositions: Object.freeze([...this.lists.compositions]),
      agents: Object.freeze([...this.lists.agents]),
      events: Object.freeze(Object.fromEntries(this.events)),
      metrics: Object.freeze([...this.lists.metrics]),
      collections: Object.freeze([...this.lists.collections]),
    }) as BusinessDefinition
  }

  /** An unversioned service and versioned ones of the same name would make routing ambiguous. */
  private checkVersionMix(declaration: Declaration, list: readonly Declaration[]): void {
    if (declaration.kind !== 'service' || declaration.versions) return
    const same = list.filter((d): d is ServiceDefinition => d.kind === 'service' && d.name === declaration.name)
    if (same.some((d) => !d.versions && Boolean(d.version) !== Boolean(declaration.version))) {
      throw new DeclarationError(
        `service "${declaration.name}" is declared both with and without a version; give every one a version`,
      )
    }
  }

  private assertOpen(declaration?: Declaration): void {
    if (!this.closed) return
    const what = declaration ? `${declaration.kind} "${declaration.name}"` : 'a declaration'
    throw new DeclarationError(
      `${what} was declared after business "${this.name}" finished loading. ` +
        'Declare handlers, schedules and services at module top level or inside business(), not later.',
    )
  }
}

interface CollectorState {
  readonly storage: AsyncLocalStorage<Collector>
  fallback?: Collector
}

const state = processSingleton<CollectorState>('collector', () => ({ storage: new AsyncLocalStorage<Collector>() }))

/** The process-wide collector of declarations made outside any business (see module doc). */
export function defaultCollector(): Collector {
  state.fallback ??= new Collector('default')
  return state.fallback
}

/** The collector declarations go to here. */
export const activeCollector = (): Collector => state.storage.getStore() ?? defaultCollector()

const checkName = (name: unknown, place: string): string => {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new DeclarationError(`${place}: the business needs a name (a non-empty string), got ${JSON.stringify(name)}`)
  }
  return name
}

/**
 * Collect what `fn` declares (synchronously or not) into a new definition named `name`.
 * Used by `load()`, which imports a module inside it.
 *
 * @example
 * const definition = await collect('shop', () => import('./shop.ts'))
 */
export async function collect(name: string, fn: () => unknown): Promise<BusinessDefinition> {
  const collector = new Collector(checkName(name, 'collect()'))
  await state.storage.run(collector, fn)
  return collector.finish()
}

/**
 * Declare a business explicitly: everything `define` declares belongs to it, and nothing else.
 * Returns the definition (a promise of it when `define` is async).
 *
 * @example
 * export default business('shop', () => {
 *   on($.Order.created, async (order) => send($.Email.send, { to: order.email }))
 * })
 */
export function business(name: string, define: () => void): BusinessDefinition
export function business(name: string, define: () => Promise<void>): Promise<BusinessDefinition>
export function business(
  name: string,
  define: () => void | Promise<void>,
): BusinessDefinition | Promise<BusinessDefinition> {
  if (typeof define !== 'function') {
    throw new DeclarationError(`business('${name}', ...): the second argument must be a function that declares it`)
  }
  const collector = new Collector(checkName(name, 'business()'))
  const result = state.storage.run(collector, define)
  if (result instanceof Promise) return result.then(() => collector.finish())
  return collector.finish()
}

/** Symbol under which user-facing values (services, sagas, ...) list what they declare. */
export const DECLARES = Symbol.for('bac.sdk.declares')

/** A value returned by `$.service`, `$.saga`, `on`, ...: it knows the declarations it made. */
export interface Declared {
  readonly [DECLARES]: readonly Declaration[]
}

/** Attach the declarations `value` made, without making them an enumerable property. */
export function declares<T extends object>(value: T, declarations: readonly Declaration[]): T & Declared {
  Object.defineProperty(value, DECLARES, { value: Object.freeze([...declarations]) })
  return value as T & Declared
}

/**
 * Include declarations made elsewhere (e.g. a service module imported by several businesses)
 * in the business being declared, with everything they brought (a service's handlers, jobs,
 * collections and metrics).
 *
 * @example
 * business('shop', () => { use(PaymentService, OrderSaga) })
 */
export function use(...declared: readonly Declared[]): void {
  const collector = activeCollector()
  for (const item of declared) {
    const declarations = (item as Partial<Declared> | undefined)?.[DECLARES]
    if (!declarations) {
      throw new DeclarationError('use(): expected what $.service, $.saga, $.agent, $.compose, on or every returned')
    }
    for (const declaration of declarations) collector.include(declaration)
  }
}
