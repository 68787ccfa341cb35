/**
 * What a call cost, in US dollars, from the tokens it used and the model's price per million
 * tokens. The defaults are list prices of common OpenAI models (check yours: they change);
 * `createRuntime({ ai: { prices } })` adds or overrides, e.g. for a local model at zero. A
 * dated model name (`gpt-4o-2024-08-06`) takes the price of its longest listed prefix.
 *
 * @example
 * costOf(prices, 'gpt-4o-mini', { inputTokens: 1000, outputTokens: 200 }) // 0.00027
 */
import type { Usage } from './provider.ts'

/** US dollars per million input and output tokens. */
export interface ModelPrice {
  readonly input: number
  readonly output: number
}

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  o3: { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
}

export function priceOf(prices: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice | undefined {
  if (prices[model]) return prices[model]
  const prefix = Object.keys(prices)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0]
  return prefix ? prices[prefix] : undefined
}

export function costOf(prices: Readonly<Record<string, ModelPrice>>, model: string, usage: Usage): number | undefined {
  const price = priceOf(prices, model)
  if (!price) return undefined
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000
}
