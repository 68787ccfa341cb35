/**
 * The `AIProvider` port: one chat completion — messages (with tool calls and results), the
 * tools the model may call, an optional JSON Schema the answer must follow — answered with a
 * message and the tokens it used. The `openai` client implements it for any OpenAI-compatible
 * endpoint; `recordedAI(fixtures)` answers from fixtures in tests.
 *
 * @example
 * const { message, usage } = await provider.chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
 */

export type ChatMessage =
  | { readonly role: 'system' | 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string | null; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string }

export interface ToolCall {
  readonly id: string
  readonly name: string
  /** The arguments as the model wrote them: JSON text, not yet checked. */
  readonly arguments: string
}

export interface ToolSchema {
  readonly name: string
  readonly description?: string
  /** JSON Schema of the arguments. */
  readonly parameters: Readonly<Record<string, unknown>>
}

export interface ChatRequest {
  readonly model: string
  readonly messages: readonly ChatMessage[]
  readonly tools?: readonly ToolSchema[]
  /** The answer must be JSON following this schema (structured output). */
  readonly schema?: { readonly name: string; readonly schema: Readonly<Record<string, unknown>> }
  readonly temperature?: number
  readonly maxTokens?: number
  readonly signal?: AbortSignal
}

export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
}

export interface ChatResponse {
  readonly message: { readonly content: string | null; readonly toolCalls: readonly ToolCall[] }
  readonly usage: Usage
  /** The model that answered (as the provider reports it). */
  readonly model: string
}

export interface AIProvider {
  /** For logs, metrics and breaker names: `openai`, `recorded`... */
  readonly name: string
  /** Values it was configured with that must never be written (its API key): scrubbed from errors. */
  readonly secrets?: readonly string[]
  chat(request: ChatRequest): Promise<ChatResponse>
}
