/**
 * A real OpenAI-compatible HTTP server on loopback, for tests: `POST /v1/chat/completions`
 * answered by a script — text, JSON for a `json_schema` response format, tool calls, an HTTP
 * error, or a slow answer. It records every request body, so tests can see what the client
 * sent and count calls. Point the `openai` client (or `openaiProvider`) at `server.baseURL`.
 *
 * @example
 * const server = await startOpenAITestServer()
 * server.reply(() => ({ json: { category: 'billing', confidence: 0.9 } }))
 * const provider = openaiProvider({ baseURL: server.baseURL, apiKey: 'test' })
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ChatBody {
  readonly model: string
  readonly messages: readonly { role: string; content?: string | null; tool_calls?: unknown[]; tool_call_id?: string }[]
  readonly tools?: readonly {
    type: 'function'
    function: { name: string; description?: string; parameters?: unknown }
  }[]
  readonly response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } }
  readonly temperature?: number
  readonly max_tokens?: number
  readonly [key: string]: unknown
}

export interface Reply {
  /** Plain text content. */
  readonly content?: string
  /** Content as JSON (what a json_schema response carries). */
  readonly json?: unknown
  readonly toolCalls?: readonly { readonly name: string; readonly arguments: unknown; readonly id?: string }[]
  /** Answer with this HTTP status and an OpenAI-style error body. */
  readonly status?: number
  readonly error?: string
  /** Wait this long before answering (the slow mode). */
  readonly delayMs?: number
  readonly usage?: { readonly prompt: number; readonly completion: number }
}

export type Responder = (body: ChatBody, index: number) => Reply | Promise<Reply>

export interface OpenAITestServer {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseURL: string
  /** Every chat request body received, in order. */
  readonly requests: ChatBody[]
  /** Answer every request with `responder` from now on. */
  reply(responder: Responder): void
  /** Answer the next requests with these replies in order, then with the last one. */
  script(...replies: Reply[]): void
  close(): Promise<void>
}

const read = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const send = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/

/** Why the real API would refuse this request, if it would. */
function refuse(body: ChatBody, authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Bearer ')) return 'missing bearer authorization'
  if (/^(o\d|gpt-5)/.test(body.model) && ('max_tokens' in body || 'temperature' in body)) {
    return `${body.model} does not take max_tokens or a temperature`
  }
  const format = body.response_format?.json_schema
  if (format && !NAME.test(format.name)) return `invalid response_format name ${format.name}`
  if (format && JSON.stringify(format.schema).includes('"propertyNames"'))
    return "Invalid schema: 'propertyNames' is not permitted"
  for (const tool of body.tools ?? [])
    if (!NAME.test(tool.function.name)) return `invalid tool name ${tool.function.name}`
  return undefined
}

export async function startOpenAITestServer(): Promise<OpenAITestServer> {
  const requests: ChatBody[] = []
  let responder: Responder = () => ({ content: 'ok' })
  let calls = 0
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      return send(response, 404, {
        error: { message: `no route ${request.method} ${request.url}`, type: 'invalid_request_error' },
      })
    }
    const body = JSON.parse(await read(request)) as ChatBody
    requests.push(body)
    // Refuse what the real API refuses, so a test cannot pass on a request OpenAI would reject.
    const refusal = refuse(body, request.headers.authorization)
    if (refusal) return send(response, 400, { error: { message: refusal, type: 'invalid_request_error' } })
    const reply = await responder(body, calls++)
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
    if (response.destroyed) return
    if (reply.status && reply.status >= 400) {
      return send(response, reply.status, {
        error: { message: reply.error ?? 'server error', type: 'server_error', code: null },
      })
    }
    const toolCalls = reply.toolCalls?.map((call, i) => ({
      id: call.id ?? `call_${calls}_${i}`,
      type: 'function',
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    }))
    const content = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.content ?? (toolCalls ? null : ''))
    const usage = reply.usage ?? { prompt: 100, completion: 20 }
    send(response, 200, {
      id: `chatcmpl-${calls}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, ...(toolCalls ? { tool_calls: toolCalls } : {}), refusal: null },
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: usage.prompt,
        completion_tokens: usage.completion,
        total_tokens: usage.prompt + usage.completion,
      },
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    reply(next) {
      responder = next
    },
    script(...replies) {
      const start = calls
      responder = (_, index) => replies[Math.min(index - start, replies.length - 1)] ?? { content: 'ok' }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
