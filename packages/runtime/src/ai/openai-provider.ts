/**
 * The `openai` client as an `AIProvider`: chat completions against api.openai.com or any
 * OpenAI-compatible server (`baseURL`: Azure, Ollama, vLLM, a local test server). The client's
 * own retries are off — the runtime retries, fails over and falls back itself, durably.
 *
 * @example
 * const provider = openaiProvider({ apiKey: process.env.OPENAI_API_KEY, baseURL: 'http://localhost:11434/v1' })
 */
import OpenAI from 'openai'
import type { AIProvider, ChatMessage, ChatRequest, ChatResponse } from './provider.ts'

export interface OpenAIProviderOptions {
  readonly apiKey?: string
  readonly baseURL?: string
  /** Extra headers on every request (an organisation, a gateway's key...). */
  readonly headers?: Readonly<Record<string, string>>
}

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam

/** OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...). */
const REASONING = /^(o\d|gpt-5)/

function toOpenAI(message: ChatMessage): Message {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content }
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      }
    default:
      return { role: message.role, content: message.content }
  }
}

export function openaiProvider(options: OpenAIProviderOptions = {}): AIProvider {
  const client = new OpenAI({
    // A local OpenAI-compatible server may need no key; the client insists on one.
    apiKey: options.apiKey ?? 'none',
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.headers ? { defaultHeaders: { ...options.headers } } : {}),
    maxRetries: 0,
  })
  return {
    name: 'openai',
    secrets: [options.apiKey, ...Object.values(options.headers ?? {})].filter(
      (s): s is string => typeof s === 'string',
    ),
    async chat(request: ChatRequest): Promise<ChatResponse> {
      const completion = await client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages.map(toOpenAI),
          ...(request.tools?.length
            ? {
                tools: request.tools.map((tool) => ({
                  type: 'function' as const,
                  function: {
                    name: tool.name,
                    ...(tool.description ? { description: tool.description } : {}),
                    parameters: { ...tool.parameters },
                  },
                })),
              }
            : {}),
          ...(request.schema
            ? {
                response_format: {
                  type: 'json_schema' as const,
                  json_schema: { name: request.schema.name, schema: { ...request.schema.schema }, strict: false },
                },
              }
            : {}),
          // Reasoning models take only their default temperature, and count tokens as max_completion_tokens.
          ...(request.temperature === undefined || REASONING.test(request.model)
            ? {}
            : { temperature: request.temperature }),
          ...(request.maxTokens === undefined ? {} : { max_completion_tokens: request.maxTokens }),
        },
        request.signal ? { signal: request.signal } : {},
      )
      const message = completion.choices[0]?.message
      return {
        message: {
          content: message?.content ?? null,
          toolCalls: (message?.tool_calls ?? []).flatMap((call) =>
            call.type === 'function'
              ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }]
              : [],
          ),
        },
        usage: {
          inputTokens: completion.usage?.prompt_tokens ?? 0,
          outputTokens: completion.usage?.completion_tokens ?? 0,
        },
        model: completion.model || request.model,
      }
    },
  }
}
