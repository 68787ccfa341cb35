/**
 * Runs an agent inside its run: a tool-calling loop. Each turn is a durable unit — the model's
 * answer (itself a stored AI call) and every tool it asked for, each tool a unit of its own —
 * so a resumed agent replays finished turns and tools instead of paying or acting twice, and
 * the run's steps are its transcript. Tool input is checked against the tool's schema; a bad
 * call or a failing tool is told to the model as the tool's result, so it can correct itself.
 * It ends with the model's first answer that calls no tool, or an `AgentTurnLimitError`.
 *
 * @example
 * const answer = await runAgent(definition, 'My lamp arrived broken', ctx)
 */
import { type AgentDefinition, AgentTurnLimitError, jsonSchema, type ToolDefinition } from '@bac/sdk'
import { validate } from '@bac/sdk/internal'
import type { RunContext } from '../run-context.ts'
import { wireName, wireSchema } from './ai-functions.ts'
import type { ChatMessage, ToolCall, ToolSchema } from './provider.ts'

/** What a turn stores: the model's message and each tool's result. */
interface Turn {
  readonly content: string | null
  readonly toolCalls: readonly ToolCall[]
  readonly results: readonly { readonly id: string; readonly name: string; readonly output: unknown }[]
}

type Args = Record<string, unknown>

/** A tool as the model sees it (names limited to [a-zA-Z0-9_-]) and how to run it. */
interface WireTool {
  readonly schema: ToolSchema
  readonly run: (args: Args, scope: RunContext) => Promise<unknown>
}

const OBJECT = { type: 'object', additionalProperties: true }
const str = (description: string) => ({ type: 'string', description })

const BUILTINS: Readonly<Record<string, Omit<WireTool['schema'], 'name'> & { run: WireTool['run'] }>> = {
  send: {
    description: 'Send a business event, e.g. Order.refunded, with its payload.',
    parameters: {
      type: 'object',
      properties: { event: str('Noun.verb'), payload: OBJECT },
      required: ['event', 'payload'],
    },
    run: (a, scope) => scope.send(String(a.event), a.payload),
  },
  call: {
    description: 'Call an operation of a service.',
    parameters: {
      type: 'object',
      properties: { service: str('service name'), operation: str('operation name'), input: {} },
      required: ['service', 'operation'],
    },
    run: (a, scope) => scope.call(String(a.service), String(a.operation), a.input),
  },
  'db.get': {
    description: 'Read one document by type and id.',
    parameters: {
      type: 'object',
      properties: { type: str('document type, e.g. Order'), id: str('document id') },
      required: ['type', 'id'],
    },
    run: (a, scope) => scope.db.get(String(a.type), String(a.id)),
  },
  'db.query': {
    description: 'Find documents of a type whose fields equal the given values.',
    parameters: {
      type: 'object',
      properties: { type: str('document type'), where: OBJECT, limit: { type: 'number' } },
      required: ['type'],
    },
    run: (a, scope) =>
      scope.db.query(String(a.type), { ...((a.where as Args) ?? {}), $limit: Math.min(Number(a.limit ?? 20), 100) }),
  },
  'db.search': {
    description: 'Full-text search documents of a type.',
    parameters: {
      type: 'object',
      properties: { type: str('document type'), query: str('words to search for'), limit: { type: 'number' } },
      required: ['type', 'query'],
    },
    run: (a, scope) =>
      scope.db.search(String(a.type), { query: String(a.query), limit: Math.min(Number(a.limit ?? 5), 50) }),
  },
}

function wireTool(tool: ToolDefinition): WireTool {
  const name = wireName(tool.name)
  if (tool.builtin) {
    const builtin = BUILTINS[tool.name]
    if (!builtin) throw new TypeError(`no built-in tool "${tool.name}"`)
    const { run, ...schema } = builtin
    return { schema: { name, ...schema }, run }
  }
  // Tool arguments are an object; a tool whose input is not one takes it as { input }.
  const json = jsonSchema(tool.input) ?? OBJECT
  const wrapped = json.type !== 'object'
  const parameters = wireSchema(wrapped ? { type: 'object', properties: { input: json }, required: ['input'] } : json)
  const input = (args: Args) => {
    const value = wrapped ? args.input : args
    return tool.input ? validate(tool.input, value, `tool ${tool.name} input`) : value
  }
  const { operation, handler } = tool
  const run: WireTool['run'] = operation
    ? (args, scope) => scope.call(operation.service, operation.name, input(args))
    : async (args, scope) => handler?.(input(args), scope)
  return { schema: { name, ...(tool.description ? { description: tool.description } : {}), parameters }, run }
}

/** The conversation so far, from the stored turns. */
function transcript(definition: AgentDefinition, input: unknown, turns: readonly Turn[]): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: 'system', content: definition.instructions },
    { role: 'user', content: typeof input === 'string' ? input : JSON.stringify(input) },
  ]
  for (const turn of turns) {
    messages.push({ role: 'assistant', content: turn.content, toolCalls: turn.toolCalls })
    for (const result of turn.results) {
      messages.push({ role: 'tool', toolCallId: result.id, content: JSON.stringify(result.output ?? null) })
    }
  }
  return messages
}

export async function runAgent(
  definition: AgentDefinition,
  input: unknown,
  ctx: RunContext,
  budget?: number,
): Promise<string> {
  const tools = new Map(definition.tools.map((tool) => [wireName(tool.name), wireTool(tool)]))
  const schemas = [...tools.values()].map((t) => t.schema)
  const turns: Turn[] = []
  for (let n = 1; n <= definition.maxTurns; n++) {
    const turn = (await ctx.unit(`turn-${n}`, async (scope) => {
      const response = await scope.askModel(
        {
          messages: transcript(definition, input, turns),
          tools: schemas,
          ...(definition.model ? { model: definition.model } : {}),
          cache: false,
        },
        budget ?? definition.budget,
      )
      const { content, toolCalls } = response.message
      const results: Turn['results'][number][] = []
      for (const [i, call] of toolCalls.entries()) {
        const output = await scope.unit(`tool-${i + 1}-${wireName(call.name)}`, (toolScope) =>
          useTool(tools, call, toolScope),
        )
        results.push({ id: call.id, name: call.name, output })
      }
      return { content, toolCalls, results } satisfies Turn
    })) as Turn
    turns.push(turn)
    if (turn.toolCalls.length === 0) return turn.content ?? ''
  }
  throw new AgentTurnLimitError(
    `agent "${definition.name}" used its ${definition.maxTurns} turns without a final answer; raise maxTurns or narrow its task`,
  )
}

/** A tool's result — or, for a bad call or a failing tool, the error for the model to see. */
async function useTool(tools: ReadonlyMap<string, WireTool>, call: ToolCall, scope: RunContext): Promise<unknown> {
  const tool = tools.get(call.name)
  if (!tool) return { error: `there is no tool "${call.name}"; tools: ${[...tools.keys()].join(', ')}` }
  let args: Args
  try {
    args = JSON.parse(call.arguments || '{}') as Args
  } catch {
    return { error: `the arguments are not valid JSON: ${call.arguments}` }
  }
  try {
    return (await tool.run(args, scope)) ?? null
  } catch (error) {
    if (scope.signal.aborted) throw error
    return { error: (error as Error)?.message ?? String(error) }
  }
}
