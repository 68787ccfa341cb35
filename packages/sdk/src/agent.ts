/**
 * `$.agent({...})`: an AI agent — instructions, a model and tools — run by the runtime as a
 * durable tool-calling loop (each turn a step, the transcript stored with the run). Tools are
 * zod-typed functions, operations of the agent's service, or built-ins: `send`, `call`,
 * `db.get`, `db.query`, `db.search`. A service of `type: 'agent'` with `instructions` is an
 * agent whose tools default to its capabilities.
 *
 * @example
 * export const Support = $.agent({
 *   name: 'support',
 *   instructions: 'Resolve the customer issue. Refund only paid orders.',
 *   tools: {
 *     refund: { description: 'Refund an order', input: z.object({ orderId: z.string() }), handler: refund },
 *   },
 *   maxTurns: 8,
 * })
 * const answer = await Support.run('My lamp arrived broken')
 */
import { activeCollector, type Declared, declares } from './collector.ts'
import { type CallOptions, current } from './context.ts'
import type { AgentDefinition, AnyFunction, OperationDefinition, ToolDefinition } from './definition.ts'
import { DeclarationError } from './errors.ts'
import { assertFunction, sourceField } from './on.ts'
import { type SchemaLike, toSchema } from './schema.ts'
import { didYouMean, unknownKeys } from './suggest.ts'

export const BUILTIN_TOOLS: readonly string[] = ['send', 'call', 'db.get', 'db.query', 'db.search']

export interface ToolSpec {
  readonly description?: string
  readonly input?: SchemaLike
  readonly handler: AnyFunction
}

export interface AgentInput {
  readonly name: string
  readonly instructions: string
  readonly model?: string
  /** Built-in or operation names, or name → tool (`true` for a built-in or operation of that name). */
  readonly tools?: readonly string[] | Readonly<Record<string, ToolSpec | AnyFunction | true>>
  /** Stop after this many model turns (default 10). */
  readonly maxTurns?: number
  /** US dollars one run may spend. */
  readonly budget?: number
}

export type Agent = Declared & {
  readonly kind: 'agent'
  readonly name: string
  readonly definition: AgentDefinition
  /** Run the agent on a message or task; resolves to its final answer. */
  run(input: unknown, options?: CallOptions): Promise<unknown>
}

const AGENT_KEYS = ['name', 'instructions', 'model', 'tools', 'maxTurns', 'budget']

/** Build (without registering) an agent definition; `operations` are the owning service's. */
export function agentDefinition(
  input: Readonly<Record<string, unknown>>,
  place: string,
  operations?: readonly OperationDefinition[],
): AgentDefinition {
  const { name, instructions, model, maxTurns = 10, budget } = input as Partial<AgentInput>
  if (typeof name !== 'string' || name === '') throw new DeclarationError(`${place}: an agent needs a name`)
  if (typeof instructions !== 'string' || instructions.trim() === '') {
    throw new DeclarationError(`${place}: an agent needs instructions (a non-empty string)`)
  }
  if (model !== undefined && typeof model !== 'string') throw new DeclarationError(`${place}: model must be a string`)
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new DeclarationError(
      `${place}: maxTurns must be a whole number of at least 1, got ${JSON.stringify(maxTurns)}`,
    )
  }
  if (budget !== undefined && !(typeof budget === 'number' && budget > 0)) {
    throw new DeclarationError(
      `${place}: budget must be a positive number of US dollars, got ${JSON.stringify(budget)}`,
    )
  }
  const service = operations?.[0]?.service
  return Object.freeze({
    kind: 'agent',
    name,
    instructions,
    ...(model ? { model } : {}),
    tools: Object.freeze(tools(input.tools, place, operations ?? [])),
    maxTurns,
    ...(budget ? { budget } : {}),
    ...(service ? { service } : {}),
    ...sourceField(),
  })
}

function tools(spec: unknown, place: string, operations: readonly OperationDefinition[]): ToolDefinition[] {
  const publicOps = operations.filter((o) => !o.internal)
  if (spec === undefined) return publicOps.map(operationTool)
  const byName = (name: unknown): ToolDefinition => {
    const op = publicOps.find((o) => o.name === name)
    if (op) return operationTool(op)
    if (typeof name === 'string' && BUILTIN_TOOLS.includes(name)) return { name, builtin: true }
    const known = [...BUILTIN_TOOLS, ...publicOps.map((o) => o.name)]
    throw new DeclarationError(
      `${place} tools: unknown tool ${JSON.stringify(name)}${didYouMean(String(name), known)}; known tools are ${known.join(', ')}`,
    )
  }
  if (Array.isArray(spec)) return spec.map(byName)
  if (typeof spec !== 'object' || spec === null) {
    throw new DeclarationError(`${place}: tools must be a list of tool names or an object of name → tool`)
  }
  return Object.entries(spec).map(([name, tool]) => {
    const at = `${place} tools.${name}`
    // `send: true`, `refund: true`: a built-in or an operation of the service, beside tools of your own.
    if (tool === true) return byName(name)
    const object: Partial<ToolSpec> =
      typeof tool === 'function' ? { handler: tool as AnyFunction } : (tool as Partial<ToolSpec>)
    const unknown = unknownKeys(object ?? {}, ['description', 'input', 'handler'], at)
    if (unknown) throw new DeclarationError(unknown)
    assertFunction(object?.handler, at)
    return {
      name,
      builtin: false,
      handler: object.handler,
      ...(object.description ? { description: object.description } : {}),
      ...(object.input === undefined ? {} : { input: toSchema(object.input, `${at} input`) }),
    }
  })
}

const operationTool = (op: OperationDefinition): ToolDefinition => ({
  name: op.name,
  builtin: false,
  operation: { service: op.service, name: op.name },
  ...(op.description ? { description: op.description } : {}),
  ...(op.input ? { input: op.input } : {}),
})

export function agent(input: AgentInput): Agent {
  const place = `$.agent('${String((input as Partial<AgentInput> | undefined)?.name)}')`
  if (typeof input !== 'object' || input === null)
    throw new DeclarationError(`${place}: expected { name, instructions, tools }`)
  const unknown = unknownKeys(input, AGENT_KEYS, place)
  if (unknown) throw new DeclarationError(unknown)
  const definition = agentDefinition(input as unknown as Record<string, unknown>, place)
  activeCollector().add(definition)
  return Object.freeze(
    declares(
      {
        kind: 'agent' as const,
        name: definition.name,
        definition,
        run: (message: unknown, options?: CallOptions) =>
          current(`${definition.name}.run()`).execute('agent', definition.name, message, options),
      },
      [definition],
    ),
  )
}
