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

export interface ModelOptions {
  /** A model name, or several to fail over in order. */
  readonly model?: string
  readonly models?: readonly string[]
  readonly temperature?: number
  readonly maxTokens?: number
  /** `false` skips the answer cache for this call. */
  readonly cache?: boolean
}

export interface GenerateOptions<S> extends ModelOptions {
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

export interface DecideOptions<O extends string, S> extends ModelOptions {
  readonly options?: readonly O[]
  readonly schema?: S
}

export interface Ai {
  (strings: TemplateStringsArray, ...values: readonly unknown[]): Promise<string>
  generate<S extends SchemaLike>(options: GenerateOptions<S> & { readonly schema: S }): Promise<Infer<S>>
  generate(options: GenerateOptions<undefined>): Promise<GenerateResult>
  classify<const C extends string>(
    options: ModelOptions & { readonly text: string; readonly categories: readonly C[] },
  ): Promise<Classification<C>>
  decide<S extends SchemaLike>(
    name: string,
    context: unknown,
    options: DecideOptions<string, S> & { readonly schema: S },
  ): Promise<Infer<S>>
  decide<const O extends string>(
    name: string,
    context: unknown,
    options: DecideOptions<O, undefined> & { readonly options: readonly O[] },
  ): Promise<{ readonly choice: O; readonly reasoning: string }>
  decide(name: string, context: unknown, options?: ModelOptions): Promise<Readonly<Record<string, unknown>>>
  extract<S extends SchemaLike>(text: string, schema: S, options?: ModelOptions): Promise<Infer<S>>
  summarize(text: string, options?: ModelOptions & { readonly maxWords?: number }): Promise<string>
  list(prompt: string, options?: ModelOptions & { readonly count?: number }): Promise<string[]>
  is(question: string, context?: unknown, options?: ModelOptions): Promise<boolean>
  agentic(
    options: ModelOptions & {
      readonly goal: string
      readonly tools?: readonly string[]
      readonly context?: unknown
      readonly maxTurns?: number
    },
  ): Promise<unknown>
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
