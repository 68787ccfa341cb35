/**
 * `recordedAI(...)`: an `AIProvider` for tests that answers without a network — from fixtures
 * (first match wins: a substring or RegExp of the user messages, or a predicate of the
 * request), or from a recording file that a real provider filled once (cassette style:
 * requests are keyed by a hash of model, messages, tools and schema). It keeps every request
 * in `calls`, so a test can assert what was asked.
 *
 * @example
 * const ai = recordedAI([
 *   { match: /refund/i, json: { category: 'billing', confidence: 0.93 } },
 *   { match: (req) => (req.tools?.length ?? 0) > 0, toolCalls: [{ name: 'refund', arguments: { orderId: 'o1' } }] },
 *   { content: 'Thanks for reaching out!' },
 * ])
 * const rt = await createRuntime({ business, ai: { provider: ai } })
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { AIProvider, ChatRequest, ChatResponse, Usage } from './provider.ts'

export interface Fixture {
  /** Which requests it answers (default: any). */
  readonly match?: string | RegExp | ((request: ChatRequest) => boolean)
  readonly content?: string
  readonly json?: unknown
  readonly toolCalls?: readonly { readonly name: string; readonly arguments: unknown }[]
  /** Fail this way instead of answering. */
  readonly error?: string
  readonly usage?: Usage
  /** Answer one request only, then step aside for the next fixture that matches. */
  readonly once?: boolean
}

export interface Recording {
  /** A JSON file of recorded answers, by request hash. */
  readonly file: string
  /** Where to get answers the file lacks (they are added to it); without one, a missing answer is an error. */
  readonly record?: AIProvider
}

export type RecordedAI = AIProvider & { readonly calls: ChatRequest[] }

const lastUserText = (request: ChatRequest) =>
  [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''

/** Every user message (the task, a repair request...): what string and RegExp fixtures match. */
const userText = (request: ChatRequest) =>
  request.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .join('\n')

function matches(fixture: Fixture, request: ChatRequest): boolean {
  const { match } = fixture
  if (match === undefined) return true
  if (typeof match === 'function') return match(request)
  const text = userText(request)
  return typeof match === 'string' ? text.includes(match) : match.test(text)
}

function answer(fixture: Fixture, request: ChatRequest, n: number): ChatResponse {
  if (fixture.error) throw new Error(fixture.error)
  return {
    message: {
      content:
        fixture.json !== undefined
          ? JSON.stringify(fixture.json)
          : (fixture.content ?? (fixture.toolCalls ? null : '')),
      toolCalls: (fixture.toolCalls ?? []).map((call, i) => ({
        id: `call_${n}_${i}`,
        name: call.name,
        arguments: JSON.stringify(call.arguments),
      })),
    },
    usage: fixture.usage ?? { inputTokens: 0, outputTokens: 0 },
    model: request.model,
  }
}

/** The parts of a request that decide its answer. */
const requestKey = ({ model, messages, tools, schema }: ChatRequest) =>
  createHash('sha256').update(JSON.stringify({ model, messages, tools, schema })).digest('hex').slice(0, 32)

export function recordedAI(source: readonly Fixture[] | Recording): RecordedAI {
  const calls: ChatRequest[] = []
  if (Array.isArray(source)) {
    const fixtures = source as readonly Fixture[]
    const used = new Set<Fixture>()
    return {
      name: 'recorded',
      calls,
      async chat(request) {
        calls.push(request)
        const fixture = fixtures.find((f) => !(f.once && used.has(f)) && matches(f, request))
        if (!fixture) {
          throw new Error(`recordedAI: no fixture answers ${JSON.stringify(lastUserText(request).slice(0, 200))}`)
        }
        used.add(fixture)
        return answer(fixture, request, calls.length)
      },
    }
  }
  const { file, record } = source as Recording
  const tape: Record<string, ChatResponse> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}
  return {
    name: 'recorded',
    calls,
    async chat(request) {
      calls.push(request)
      const key = requestKey(request)
      const recorded = tape[key]
      if (recorded) return recorded
      if (!record) {
        throw new Error(
          `recordedAI: ${file} has no answer for ${JSON.stringify(lastUserText(request).slice(0, 200))}; record it once with { record: provider }`,
        )
      }
      const fresh = await record.chat(request)
      tape[key] = fresh
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, `${JSON.stringify(tape, null, 2)}\n`)
      return fresh
    },
  }
}
