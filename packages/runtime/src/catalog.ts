/**
 * What a business offers, indexed for the runtime: handlers by event, operations by verb and by
 * service (with version routing), schedules by name, and the name each kind of run is stored
 * under so a run can find its code again after a restart.
 *
 * @example
 * const catalog = new Catalog(business)
 * catalog.operationForVerb('Email.send', '^2')  // the highest 2.x EmailService's send
 */
import type {
  AgentDefinition,
  BusinessDefinition,
  CompositionDefinition,
  HandlerDefinition,
  OperationDefinition,
  SagaDefinition,
  ScheduleDefinition,
  ServiceDefinition,
} from '@bac/sdk'
import { matches } from '@bac/sdk'
import { validate } from '@bac/sdk/internal'
import semver from 'semver'
import { UnknownOperationError } from './errors.ts'

/** A run name without its version (`Email.send@2.1.0` → `Email.send`): what breakers and rate limits are shared by. */
export const unversioned = (runName: string): string => runName.replace(/@[^@]*$/, '')

/** Something a run can be created for and awaited: an operation, saga, composition or agent. */
export interface Invocable {
  readonly kind: 'operation' | 'saga' | 'composition' | 'agent'
  /** What the run is stored under; the executor finds the code by it. */
  readonly runName: string
  /** Validate (and parse) the input before anything is written. */
  readonly checkInput?: (input: unknown) => unknown
  readonly priority?: number
}

export interface ResolvedOperation extends Invocable {
  readonly kind: 'operation'
  readonly service: ServiceDefinition
  readonly operation: OperationDefinition
}

export class Catalog {
  private readonly handlers = new Map<string, HandlerDefinition>()
  private readonly schedules = new Map<string, ScheduleDefinition>()
  private readonly operationsByRunName = new Map<string, ResolvedOperation>()
  /** Concrete (non-router) services, by name and by key. */
  private readonly services = new Map<string, ServiceDefinition[]>()

  constructor(readonly business: BusinessDefinition) {
    for (const handler of business.handlers) this.handlers.set(handler.name, handler)
    for (const schedule of business.schedules) this.schedules.set(schedule.name, schedule)
    for (const service of business.services) {
      if (service.versions) continue
      // By name, key or subject: `InventoryService`, `Inventory` (the noun of its verbs).
      for (const alias of new Set([service.name, service.key, service.subject])) {
        this.services.set(alias, [...(this.services.get(alias) ?? []), service])
      }
      for (const operation of service.operations) {
        const runName = `${service.key}.${operation.name}${service.version ? `@${service.version}` : ''}`
        const input = operation.input
        this.operationsByRunName.set(runName, {
          kind: 'operation',
          service,
          operation,
          runName,
          ...(input
            ? { checkInput: (value: unknown) => validate(input, value, `${service.key}.${operation.name} input`) }
            : {}),
          ...(operation.options.priority === undefined ? {} : { priority: operation.options.priority }),
        })
      }
    }
  }

  /** A concrete service by name or key (the newest declared, when versioned). */
  service(name: string | undefined): ServiceDefinition | undefined {
    return name === undefined ? undefined : this.services.get(name)?.at(-1)
  }

  handlersFor(eventName: string): HandlerDefinition[] {
    return this.business.handlers.filter((h) => h.patterns.some((p) => matches(p, eventName)))
  }

  handler(name: string): HandlerDefinition | undefined {
    return this.handlers.get(name)
  }

  schedule(name: string): ScheduleDefinition | undefined {
    return this.schedules.get(name)
  }

  operationByRunName(runName: string): ResolvedOperation | undefined {
    return this.operationsByRunName.get(runName)
  }

  /**
   * The operation implementing `verb`, or `undefined` when the verb is an event. An internal
   * operation (`_x`) is found only for code of its own service (`caller`).
   */
  operationForVerb(verb: string, range?: string, caller?: string): ResolvedOperation | undefined {
    const candidates = [...this.operationsByRunName.values()].filter((o) => o.operation.verb === verb)
    if (candidates.length === 0) return undefined
    const chosen = this.pick(candidates, range, verb)
    if (chosen.operation.internal && chosen.service.name !== caller) {
      throw new UnknownOperationError(
        `${verb} is internal to ${chosen.service.name}; call one of its public operations instead`,
      )
    }
    return chosen
  }

  saga(name: string): SagaDefinition | undefined {
    return this.business.sagas.find((s) => s.name === name)
  }

  agent(name: string): AgentDefinition | undefined {
    return this.business.agents.find((a) => a.name === name)
  }

  composition(name: string): CompositionDefinition | undefined {
    return this.business.compositions.find((c) => c.name === name)
  }

  /** A saga, composition or agent to run by name. */
  executable(kind: 'saga' | 'composition' | 'agent', name: string): Invocable {
    const list: readonly { name: string }[] =
      kind === 'saga' ? this.business.sagas : kind === 'composition' ? this.business.compositions : this.business.agents
    if (!list.some((item) => item.name === name)) {
      throw new UnknownOperationError(
        `no ${kind} "${name}" in business "${this.business.name}"; ${kind}s: ${list.map((i) => i.name).join(', ') || '(none)'}`,
      )
    }
    return { kind, runName: name }
  }

  /** An operation by service (name or key) and operation name. */
  operation(service: string, name: string, range?: string): ResolvedOperation {
    const versions = this.services.get(service)
    if (!versions) {
      const known = [...new Set([...this.services.values()].flat().map((s) => s.key))]
      throw new UnknownOperationError(
        `no service "${service}" in business "${this.business.name}"; services: ${known.join(', ') || '(none)'}`,
      )
    }
    const candidates = [...this.operationsByRunName.values()].filter(
      (o) => versions.includes(o.service) && o.operation.name === name,
    )
    if (candidates.length === 0) {
      const names = [...new Set(versions.flatMap((s) => s.operations.map((o) => o.name)))]
      throw new UnknownOperationError(
        `service "${service}" has no operation "${name}"; it has ${names.join(', ') || '(none)'}`,
      )
    }
    return this.pick(candidates, range, `${service}.${name}`)
  }

  /** The highest version satisfying `range` (the highest of all when none is asked). */
  private pick(candidates: ResolvedOperation[], range: string | undefined, what: string): ResolvedOperation {
    const versioned = candidates.filter((c) => c.service.version)
    if (versioned.length === 0) {
      if (range !== undefined) {
        throw new UnknownOperationError(`${what} is not versioned, so version "${range}" cannot be asked for`)
      }
      return candidates[0] as ResolvedOperation
    }
    if (range !== undefined && !semver.validRange(range)) {
      throw new UnknownOperationError(`${what}: "${range}" is not a semver range such as '^1' or '2.x'`)
    }
    const fitting = versioned
      .filter((c) => range === undefined || semver.satisfies(c.service.version as string, range))
      .sort((a, b) => semver.rcompare(a.service.version as string, b.service.version as string))
    const chosen = fitting[0]
    if (!chosen) {
      const available = versioned.map((c) => c.service.version).join(', ')
      throw new UnknownOperationError(`no version of ${what} matches "${range}"; available: ${available}`)
    }
    return chosen
  }
}
