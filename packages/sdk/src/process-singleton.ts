/**
 * One value per process, shared by every copy of this package. `load()` may evaluate a
 * business's own copy of `@bac/sdk`; state that must be common to both (the ambient context,
 * the collector binding) is kept on `globalThis` under a registered symbol.
 *
 * @example
 * const storage = processSingleton('context', () => new AsyncLocalStorage<Context>())
 */
export function processSingleton<T>(name: string, create: () => T): T {
  const key = Symbol.for(`bac.sdk.${name}`)
  const store = globalThis as Record<symbol, unknown>
  if (!(key in store)) store[key] = create()
  return store[key] as T
}
