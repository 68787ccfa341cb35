/**
 * The `ai` of a business — generate, classify, decide, extract, summarize, list, is, the
 * tagged template and agentic — as prompts over one `ask` function (the gateway, made durable
 * by the run that asks). A schema becomes JSON Schema for structured output; the answer is
 * parsed and validated, and an invalid one is shown its error once for a repair; still invalid
 * is an `AIOutputError`. When every model fails, a call's `fallback` answers instead.
 *
 * @example
 * const ai = aiFunctions((request) => gateway.complete(request).then((c) => c.response), agentic)
 * await ai.classify({ text: 'Where is my refund?', categories: ['billing', 'shipping'] })
 */
import { AIOutputError, type Ai, jsonSchema, type ModelOptions } from '@bac/sdk'
import { toMilliseconds, toSchema } from '@bac/sdk/internal'
import { z } from 'zod'
import type { AIRequest } from './ai-gateway.ts'
import type { ChatMessage, ChatResponse } from './provider.ts'

/** One model call. */
export type Ask = (request: AIRequest) => Promise<ChatResponse>
export type Agentic = (options: Parameters<Ai['agentic']>[0]) => Promise<unknown>
/**
 * Runs one ai function call — its model calls, repair and fallback — given the `ask` to use. In
 * a run it is one durable unit: the call's outcome is stored whole, and its model calls get
 * keys inside it, so parallel calls, repairs and fallbacks replay exactly.
 */
export type Unit = <T>(work: (ask: Ask) => Promise<T>) => Promise<T>

type Schema = z.ZodType

const SYSTEM = 'You are a precise assistant inside a business application. Follow the instructions exactly.'
const JSON_ONLY = 'Answer with JSON only, following the given schema.'

/** `prompt`, with the context (if any) appended as JSON. */
export function withContext(prompt: string, context: unknown): string {
  return context === undefined ? prompt : `${prompt}\n\nContext:\n${JSON.stringify(context, null, 2)}`
}

function modelOf(options: ModelOptions<unknown>): Omit<AIRequest, 'messages'> {
  const { model, models, temperature, maxTokens, timeout, cache } = options
  return {
    ...(model ? { model } : {}),
    ...(models ? { models } : {}),
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(timeout === undefined ? {} : { timeout: toMilliseconds(timeout, 'ai timeout') }),
    ...(cache === undefined ? {} : { cache }),
  }
}

/** The answer's JSON text, without the code fences some models put around it. */
const unfence = (text: string) => text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1')

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string }

function parse<T>(schema: z.ZodType<T>, content: string | null): Parsed<T> {
  let json: unknown
  try {
    json = JSON.parse(unfence(content ?? ''))
  } catch {
    return { ok: false, problem: 'the answer is not valid JSON' }
  }
  const result = schema.safeParse(json)
  if (result.success) return { ok: true, value: result.data }
  return { ok: false, problem: z.prettifyError(result.error).replace(/\n/g, '; ') }
}

/** A name structured output accepts: [a-zA-Z0-9_-], at most 64 characters. */
export const wireName = (name: string) => name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64)

/**
 * JSON Schema as providers take it: without `$schema`, and without `propertyNames` (what zod
 * writes for a record, and what OpenAI rejects).
 */
export function wireSchema(schema: unknown): Record<string, unknown> {
  const clean = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(clean)
    if (value === null || typeof value !== 'object') return value
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== '$schema' && key !== 'propertyNames')
        .map(([key, v]) => [key, clean(v)]),
    )
  }
  return clean(schema) as Record<string, unknown>
}

/** A JSON Schema with an object at its root (what structured output requires), and how to unwrap it. */
function rootObject(schema: Schema): { wire: Schema; unwrap: (value: unknown) => unknown } {
  const json = jsonSchema(schema) ?? {}
  if (json.type === 'object') return { wire: schema, unwrap: (v) => v }
  return { wire: z.object({ value: schema }), unwrap: (v) => (v as { value: unknown }).value }
}

export function aiFunctions(unit: Unit, agentic: Agentic): Ai {
  const text = async (ask: Ask, messages: ChatMessage[], options: ModelOptions<unknown>): Promise<string> => {
    const response = await ask({ messages, ...modelOf(options) })
    return response.message.content ?? ''
  }

  const structured = async <T>(
    ask: Ask,
    schema: Schema,
    name: string,
    messages: ChatMessage[],
    options: ModelOptions<unknown>,
  ): Promise<T> => {
    const { wire, unwrap } = rootObject(schema)
    const request = { ...modelOf(options), schema: { name, schema: wireSchema(jsonSchema(wire) ?? {}) } }
    const accept = (response: ChatResponse) => parse(wire, response.message.content).ok
    const first = await ask({ ...request, messages, accept })
    const parsed = parse(wire, first.message.content)
    if (parsed.ok) return unwrap(parsed.value) as T
    // One repair: show the model its answer and what is wrong with it.
    const repair: ChatMessage[] = [
      ...messages,
      { role: 'assistant', content: first.message.content ?? '' },
      {
        role: 'user',
        content: `That answer is invalid: ${parsed.problem}. Answer again with only the corrected JSON.`,
      },
    ]
    const second = await ask({ ...request, messages: repair, accept })
    const repaired = parse(wire, second.message.content)
    if (repaired.ok) return unwrap(repaired.value) as T
    throw new AIOutputError(
      `the model's answer for ${name} does not match its schema, even after one repair: ${repaired.problem}`,
      second.message.content ?? '',
    )
  }

  /** One call as a unit; if it fails and the call has a fallback, the fallback's answer is the outcome. */
  const guarded = <T>(options: ModelOptions<T> | undefined, work: (ask: Ask) => Promise<T>): Promise<T> =>
    unit(async (ask) => {
      try {
        return await work(ask)
      } catch (error) {
        if (!options?.fallback) throw error
        return options.fallback(error instanceof Error ? error : new Error(String(error)))
      }
    })

  const ask1 = (system: string, user: string): ChatMessage[] => [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ]

  const functions = {
    generate(options: Parameters<Ai['generate']>[0]) {
      const { prompt, system, context, schema } = options as {
        prompt: string
        system?: string
        context?: unknown
        schema?: unknown
      }
      const messages = ask1(system ?? SYSTEM, withContext(prompt, context))
      return guarded(options as ModelOptions<unknown>, async (ask) =>
        schema === undefined
          ? { text: await text(ask, messages, options) }
          : structured(
              ask,
              toSchema(schema, 'ai.generate() schema'),
              'generate',
              [...messages, { role: 'user', content: JSON_ONLY }],
              options,
            ),
      )
    },
    classify(options: { text: string; categories: readonly string[] } & ModelOptions<unknown>) {
      const { text: input, categories } = options
      if (!Array.isArray(categories) || categories.length === 0) {
        throw new TypeError(
          `ai.classify(): categories must be a non-empty list of strings, got ${JSON.stringify(categories)}`,
        )
      }
      const schema = z.object({
        category: z.enum(categories as [string, ...string[]]),
        confidence: z.number().min(0).max(1),
      })
      const messages = ask1(
        `Classify the text into exactly one of these categories: ${categories.join(', ')}. Give your confidence between 0 and 1. ${JSON_ONLY}`,
        String(input),
      )
      return guarded(options, (ask) => structured(ask, schema, 'classification', messages, options))
    },
    decide(
      name: string,
      context: unknown,
      options: { options?: readonly string[]; schema?: unknown } & ModelOptions<unknown> = {},
    ) {
      const choices = options.options
      const schema = options.schema
        ? toSchema(options.schema, `ai.decide('${name}') schema`)
        : choices?.length
          ? z.object({ choice: z.enum(choices as [string, ...string[]]), reasoning: z.string() })
          : z.record(z.string(), z.unknown())
      const instruction = choices?.length
        ? `Choose one of: ${choices.join(', ')}, and say why in one sentence.`
        : 'Answer with the decision as a JSON object.'
      const messages = ask1(
        `You make the business decision "${name}". ${instruction} ${JSON_ONLY}`,
        withContext(`Decide "${name}".`, context),
      )
      return guarded(options, (ask) => structured(ask, schema, wireName(name), messages, options))
    },
    extract(input: string, schema: unknown, options: ModelOptions<unknown> = {}) {
      const messages = ask1(
        `Extract the requested fields from the text. Leave out nothing that is there; invent nothing that is not. ${JSON_ONLY}`,
        String(input),
      )
      return guarded(options, (ask) =>
        structured(ask, toSchema(schema, 'ai.extract() schema'), 'extraction', messages, options),
      )
    },
    summarize(input: string, options: { maxWords?: number } & ModelOptions<unknown> = {}) {
      const limit = options.maxWords ? ` in at most ${options.maxWords} words` : ''
      return guarded(options, (ask) =>
        text(ask, ask1(`Summarize the text${limit}. Answer with the summary only.`, String(input)), options),
      )
    },
    list(prompt: string, options: { count?: number } & ModelOptions<unknown> = {}) {
      const items = options.count ? z.array(z.string()).length(options.count) : z.array(z.string())
      const count = options.count ? ` Give exactly ${options.count} items.` : ''
      const messages = ask1(`Answer with a list of short items.${count} ${JSON_ONLY}`, prompt)
      return guarded(
        options,
        async (ask) =>
          (await structured<{ items: string[] }>(ask, z.object({ items }), 'list', messages, options)).items,
      )
    },
    is(question: string, context?: unknown, options: ModelOptions<unknown> = {}) {
      const messages = ask1(`Answer the yes/no question truthfully. ${JSON_ONLY}`, withContext(question, context))
      return guarded(
        options,
        async (ask) =>
          (await structured<{ answer: boolean }>(ask, z.object({ answer: z.boolean() }), 'answer', messages, options))
            .answer,
      )
    },
    agentic,
  }

  const template = (strings: TemplateStringsArray, ...values: readonly unknown[]) => {
    const prompt = strings.reduce((out, part, i) => {
      if (i >= values.length) return out + part
      const value = values[i]
      return out + part + (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)))
    }, '')
    return guarded({}, (ask) => text(ask, ask1(SYSTEM, prompt), {}))
  }
  return Object.assign(template, functions) as unknown as Ai
}
