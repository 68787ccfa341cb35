/**
 * `$.compose(...)`: build one executable from services, operations, sagas, agents, functions
 * and other compositions — in sequence (each result feeds the next), in parallel (results
 * merged; one failure fails the whole), or by condition. `execute(input)` runs it durably.
 * A service stands for its only public operation, or the one named execute, process, handle
 * or run.
 *
 * @example
 * const OrderFlow = $.compose([OrderValidationService, PaymentService, FulfillmentService])
 * const Enrich = $.compose.parallel([VerifyEmail, LookupCompany])
 * const Pay = $.compose.conditional({
 *   conditions: [{ when: (o: Order) => o.total >= 1000, use: EnterprisePayment }],
 *   default: StandardPayment,
 * })
 */
import { activeCollector, DECLARES, type Declared, declares } from './collector.ts'
import { type CallOptions, current } from './context.ts'
import type {
  AnyFunction,
  ComposableDefinition,
  CompositionDefinition,
  ConditionDefinition,
  Declaration,
} from './definition.ts'
import { DeclarationError } from './errors.ts'
import { functionName, sourceField } from './on.ts'
import { isRef, type Ref } from './ref.ts'

/** Anything a composition can run. */
export type Composable = AnyFunction | Ref | Declared

export type Composition<I = unknown, O = unknown> = Declared & {
  readonly kind: 'composition'
  readonly name: string
  readonly definition: CompositionDefinition
  execute(input: I, options?: CallOptions): Promise<O>
}

export interface ConditionalInput {
  readonly conditions: readonly { readonly when: (input: never) => unknown; readonly use: Composable }[]
  readonly default?: Composable
  readonly name?: string
}

const DEFAULT_OPERATIONS = ['execute', 'process', 'handle', 'run']

interface Resolved {
  readonly step: ComposableDefinition
  readonly label: string
  readonly brings: readonly Declaration[]
}

function resolve(item: unknown, place: string): Resolved {
  if (isRef(item)) return { step: { kind: 'send', verb: item.path }, label: item.path, brings: [] }
  if (typeof item === 'function') {
    const name = functionName(item as AnyFunction) ?? 'fn'
    return { step: { kind: 'function', name, fn: item as AnyFunction }, label: name, brings: [] }
  }
  const declared = item as Partial<Declared> & { readonly kind?: string; readonly definition?: Declaration }
  const brings = declared?.[DECLARES] ?? []
  const definition = declared?.definition
  switch (definition?.kind) {
    case 'service': {
      const latest = definition.versions ? Object.values(definition.versions).at(-1) : definition
      const operations = (latest?.operations ?? []).filter((o) => !o.internal)
      const chosen =
        operations.length === 1 ? operations[0] : operations.find((o) => DEFAULT_OPERATIONS.includes(o.name))
      if (!chosen) {
        throw new DeclarationError(
          `${place}: service "${definition.name}" has operations ${operations.map((o) => o.name).join(', ') || '(none)'}; ` +
            `compose one of them by reference ($.${definition.subject}.<operation>) or name one ${DEFAULT_OPERATIONS.join('/')}`,
        )
      }
      return {
        step: { kind: 'operation', service: definition.name, operation: chosen.name },
        label: definition.name,
        brings,
      }
    }
    case 'saga':
    case 'agent':
    case 'composition':
      return { step: { kind: definition.kind, name: definition.name }, label: definition.name, brings }
    default:
      throw new DeclarationError(
        `${place}: expected a function, a reference such as $.Payment.process, a service, saga, agent or composition; got ${typeof item}`,
      )
  }
}

function declare(
  mode: CompositionDefinition['mode'],
  resolved: readonly Resolved[],
  conditions: readonly ConditionDefinition[],
  fallback: Resolved | undefined,
  explicitName: string | undefined,
  label: string,
): Composition {
  const collector = activeCollector()
  for (const r of [...resolved, ...(fallback ? [fallback] : [])]) for (const d of r.brings) collector.include(d)
  const name = explicitName ?? collector.uniqueName('composition', label)
  const definition: CompositionDefinition = Object.freeze({
    kind: 'composition',
    name,
    mode,
    steps: Object.freeze(resolved.map((r) => r.step)),
    conditions: Object.freeze(conditions),
    ...(fallback ? { fallback: fallback.step } : {}),
    ...sourceField(),
  })
  collector.add(definition)
  return Object.freeze(
    declares(
      {
        kind: 'composition' as const,
        name,
        definition,
        execute: (input: unknown, options?: CallOptions) =>
          current(`${name}.execute()`).execute('composition', name, input, options),
      },
      [definition],
    ),
  )
}

function list(steps: unknown, place: string): Resolved[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new DeclarationError(`${place}: expected a non-empty list of services, operations, sagas or functions`)
  }
  return steps.map((step, i) => resolve(step, `${place}[${i}]`))
}

const checkName = (options: { readonly name?: unknown } | undefined, place: string): string | undefined => {
  const name = options?.name
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new DeclarationError(`${place}: name must be a non-empty string`)
  }
  return name
}

function sequence(steps: readonly Composable[], options?: { readonly name?: string }): Composition {
  const resolved = list(steps, '$.compose()')
  const name = checkName(options, '$.compose()')
  return declare('sequence', resolved, [], undefined, name, resolved.map((r) => r.label).join(' > '))
}

function parallel(steps: readonly Composable[], options?: { readonly name?: string }): Composition {
  const resolved = list(steps, '$.compose.parallel()')
  const name = checkName(options, '$.compose.parallel()')
  return declare('parallel', resolved, [], undefined, name, resolved.map((r) => r.label).join(' + '))
}

function conditional(input: ConditionalInput): Composition {
  const place = '$.compose.conditional()'
  if (!Array.isArray(input?.conditions) || input.conditions.length === 0) {
    throw new DeclarationError(`${place}: conditions must be a non-empty list of { when, use }`)
  }
  const resolved = input.conditions.map((condition, i) => {
    if (typeof condition?.when !== 'function') {
      throw new DeclarationError(`${place} conditions[${i}]: when must be a function of the input`)
    }
    return resolve(condition.use, `${place} conditions[${i}].use`)
  })
  const conditions = input.conditions.map((condition, i) =>
    Object.freeze({ when: condition.when as (input: unknown) => unknown, use: (resolved[i] as Resolved).step }),
  )
  const fallback = input.default === undefined ? undefined : resolve(input.default, `${place} default`)
  const labels = [...resolved, ...(fallback ? [fallback] : [])].map((r) => r.label)
  return declare('conditional', resolved, conditions, fallback, checkName(input, place), `route(${labels.join(' | ')})`)
}

export const compose = Object.freeze(Object.assign(sequence, { parallel, conditional }))
