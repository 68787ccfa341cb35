/**
 * `$.saga({ name, steps })`: steps that run in order as durable steps; when one fails after
 * its retries, the compensations of the finished steps run in reverse order, each durable and
 * retried. `execute(input)` resolves to every step's result by name, or rejects once the saga
 * is compensated.
 *
 * @example
 * const OrderSaga = $.saga({
 *   name: 'order',
 *   steps: [
 *     { name: 'reserve', action: (o: Order) => send($.Inventory.reserve, o.items),
 *       compensation: (o, reservation: { id: string }) => send($.Inventory.release, reservation) },
 *     { name: 'charge', action: (o: Order) => send($.Payment.process, o) },
 *   ],
 * })
 */
import { activeCollector, type Declared, declares } from './collector.ts'
import { type CallOptions, type Context, current } from './context.ts'
import type { SagaDefinition, SagaStepDefinition } from './definition.ts'
import { DeclarationError } from './errors.ts'
import { assertFunction, sourceField } from './on.ts'
import { type PolicyInput, policyOptions } from './options.ts'
import { sendsOf } from './sends-of.ts'
import type { Bivariant } from './types.ts'

export interface SagaStep<I = unknown> extends PolicyInput {
  readonly name: string
  readonly action: Bivariant<[input: I, ctx: Context], unknown>
  /** Undo the step: gets the saga input and this step's result. */
  readonly compensation?: Bivariant<[input: I, result: never, ctx: Context], unknown>
}

export interface SagaInput<I = unknown> extends PolicyInput {
  readonly name: string
  readonly steps: readonly SagaStep<I>[]
}

export type Saga<I = unknown> = Declared & {
  readonly kind: 'saga'
  readonly name: string
  readonly definition: SagaDefinition
  /** Run the saga durably; resolves to each step's result by step name. */
  execute(input: I, options?: CallOptions): Promise<Record<string, unknown>>
}

const STEP_KEYS = ['name', 'action', 'compensation']

export function saga<I = unknown>(input: SagaInput<I>): Saga<I> {
  const name = (input as Partial<SagaInput> | undefined)?.name
  const place = `$.saga('${String(name)}')`
  if (typeof name !== 'string' || name.trim() === '') {
    throw new DeclarationError(`$.saga(): a saga needs a name, e.g. $.saga({ name: 'order', steps: [...] })`)
  }
  const { steps, name: _, ...policies } = input
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new DeclarationError(`${place}: steps must be a non-empty list of { name, action, compensation }`)
  }
  const seen = new Set<string>()
  const stepDefinitions = steps.map((step, index): SagaStepDefinition => {
    const at = `${place} steps[${index}]${typeof step?.name === 'string' ? ` ('${step.name}')` : ''}`
    if (typeof step !== 'object' || step === null)
      throw new DeclarationError(`${at}: expected { name, action, compensation }`)
    const { name: stepName, action, compensation, ...stepPolicies } = step
    if (typeof stepName !== 'string' || stepName === '') throw new DeclarationError(`${at}: a step needs a name`)
    if (seen.has(stepName)) throw new DeclarationError(`${at}: step name "${stepName}" is used twice`)
    seen.add(stepName)
    if (action === undefined)
      throw new DeclarationError(`${at}: a step needs an action, e.g. action: async (input) => ...`)
    assertFunction(action, at, 'action')
    if (compensation !== undefined) assertFunction(compensation, at, 'compensation')
    return Object.freeze({
      name: stepName,
      action: action as SagaStepDefinition['action'],
      ...(compensation ? { compensation: compensation as SagaStepDefinition['compensation'] } : {}),
      options: policyOptions(stepPolicies, at, STEP_KEYS),
    })
  })
  const definition: SagaDefinition = Object.freeze({
    kind: 'saga',
    name,
    steps: Object.freeze(stepDefinitions),
    options: policyOptions(policies, place, ['name', 'steps']),
    sends: sendsOf(...stepDefinitions.flatMap((s) => [s.action, s.compensation])),
    ...sourceField(),
  })
  activeCollector().add(definition)
  return Object.freeze(
    declares(
      {
        kind: 'saga' as const,
        name,
        definition,
        execute: (payload: I, options?: CallOptions) =>
          current(`${name}.execute()`).execute('saga', name, payload, options) as Promise<Record<string, unknown>>,
      },
      [definition],
    ),
  )
}
