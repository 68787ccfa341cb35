/**
 * `ai`: typed AI functions of the running business (the runtime supplies the provider: the
 * `openai` client against any OpenAI-compatible endpoint). Inside a run every call is a durable
 * step, so a retried run reuses the answer instead of paying for it again.
 *
 * @example
 * const { category } = await ai.classify({ text: message, categories: ['billing', 'support'] })
 * const lead = await ai.extract(email, z.object({ company: z.string(), seats: z.number() }))
 * const tagline = await ai`Write a tagline for ${product.name}`
 */
import { current } from './context.ts'
import type { Infer, SchemaLike } from './schema.ts'
import type { Duration } from './types.ts'

export interface ModelOptions<T = unknown> {
  /** A model name, or several to fail over in order. */
  readonly model?: string
  readonly models?: readonly string[]
  readonly temperature?: number
  readonly maxTokens?: number
  /** `false` skips the answer cache for this call. */
  readonly cache?: boolean
  /** How long one model may take before the next is tried (default: the runtime's, 60 s). */
  readonly timeout?: Duration
  /** The answer when every model fails (the rule-based classifier...), given the error. */
  readonly fallback?: (error: Error) => T | Promise<T>
}

export interface GenerateOptions<S, T = unknown> extends ModelOptions<T> {
  readonly prompt: string
  readonly system?: string
  readonly context?: unknown
  readonly schema?: S
}

export interface GenerateResult {
  readonly text: string
  readonly [field: string]: unknown
}

export interface Classification<C extends string> {
  readonly category: C
  readonly confidence: number
}

export interface DecideOptions<O extends string, S, T = unknown> extends ModelOptions<T> {
  readonly options?: readonly O[]
  readonly schema?: S
}

export interface Ai {
  (strings: TemplateStringsArray, ...values: readonly unknown[]): Promise<string>
  generate<S extends SchemaLike>(options: GenerateOptions<S, Infer<S>> & { readonly schema: S }): Promise<Infer<S>>
  generate(options: GenerateOptions<undefined, GenerateResult>): Promise<GenerateResult>
  classify<const C extends string>(
    options: ModelOptions<Classification<C>> & { readonly text: string; readonly categories: readonly C[] },
  ): Promise<Classification<C>>
  decide<S extends SchemaLike>(
    name: string,
    context: unknown,
    options: DecideOptions<string, S, Infer<S>> & { readonly schema: S },
  ): Promise<Infer<S>>
  decide<const O extends string>(
    name: string,
    context: unknown,
    options: DecideOptions<O, undefined, Decision<O>> & { readonly options: readonly O[] },
  ): Promise<Decision<O>>
  decide(
    name: string,
    context: unknown,
    options?: ModelOptions<Readonly<Record<string, unknown>>>,
  ): Promise<Readonly<Record<string, unknown>>>
  extract<S extends SchemaLike>(text: string, schema: S, options?: ModelOptions<Infer<S>>): Promise<Infer<S>>
  summarize(text: string, options?: ModelOptions<string> & { readonly maxWords?: number }): Promise<string>
  list(prompt: string, options?: ModelOptions<string[]> & { readonly count?: number }): Promise<string[]>
  is(question: string, context?: unknown, options?: ModelOptions<boolean>): Promise<boolean>
  /** An ad-hoc agent: work towards `goal` with the named tools (built-ins or this service's operations). */
  agentic(
    options: ModelOptions & {
      readonly goal: string
      readonly tools?: readonly string[]
      readonly context?: unknown
      readonly maxTurns?: number
      readonly instructions?: string
    },
  ): Promise<unknown>
}

export interface Decision<O extends string> {
  readonly choice: O
  readonly reasoning: string
}

export const ai: Ai = new Proxy((() => {}) as unknown as Ai, {
  apply(_, __, args: unknown[]) {
    return (current('ai``').ai as unknown as (...a: unknown[]) => unknown)(...args)
  },
  get(_, key) {
    if (typeof key !== 'string' || key === 'then') return undefined
    return (...args: unknown[]) => {
      const target = current(`ai.${key}()`).ai as unknown as Record<string, (...a: unknown[]) => unknown>
      const method = target[key]
      if (typeof method !== 'function') throw new TypeError(`ai.${key} is not an ai function`)
      return method.apply(target, args)
    }
  },
})
