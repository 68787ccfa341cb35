/**
 * Runs a composition inside its run. Each element — a function, an operation, a verb to
 * send, a saga, agent or another composition — is a durable unit with its own key, so a
 * resumed run skips what finished. Sequence feeds each result to the next; parallel runs them
 * together and merges the results (objects into one object, anything else into a list), and
 * fails if one fails; conditional picks the first condition that holds (the choice is stored,
 * so a replay takes the same branch), else the default.
 *
 * @example
 * const result = await runComposition(definition, order, ctx)
 */
import type { ComposableDefinition, CompositionDefinition } from '@bac/sdk'
import { UnknownOperationError } from './errors.ts'
import type { RunContext } from './run-context.ts'

function element(step: ComposableDefinition, input: unknown, ctx: RunContext, key: string): Promise<unknown> {
  return ctx.unit(key, (scope) => {
    switch (step.kind) {
      case 'function':
        return step.fn(input, scope)
      case 'operation':
        return scope.call(step.service, step.operation, input)
      case 'send':
        return scope.send(step.verb, input)
      default:
        return scope.execute(step.kind, step.name, input)
    }
  })
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype

export async function runComposition(
  composition: CompositionDefinition,
  input: unknown,
  ctx: RunContext,
): Promise<unknown> {
  switch (composition.mode) {
    case 'sequence': {
      let value = input
      for (const [i, step] of composition.steps.entries()) value = await element(step, value, ctx, `sequence:${i}`)
      return value
    }
    case 'parallel': {
      const results = await Promise.all(composition.steps.map((step, i) => element(step, input, ctx, `parallel:${i}`)))
      return results.every(isPlainObject) ? Object.assign({}, ...results) : results
    }
    case 'conditional': {
      const chosen = (await ctx.unit('route', async () => {
        for (const [i, condition] of composition.conditions.entries()) if (await condition.when(input)) return i
        return -1
      })) as number
      const step = chosen >= 0 ? composition.conditions[chosen]?.use : composition.fallback
      if (!step)
        throw new UnknownOperationError(
          `composition "${composition.name}": no condition matched the input and there is no default`,
        )
      return element(step, input, ctx, chosen >= 0 ? `branch:${chosen}` : 'default')
    }
  }
}
