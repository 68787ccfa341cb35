/**
 * A `Context` that records what the sdk forwards to it, for the sdk's own tests. The sdk's
 * contract is to forward each ambient call (`send`, `db.x`, `ai.x`, `step`...) to whatever
 * context is bound, unchanged but for normalising references; this double lets the tests see
 * exactly that without a runtime. The runtime's tests exercise the real context.
 */
import type { Context } from './context.ts'

export interface Call {
  readonly method: string
  readonly args: readonly unknown[]
}

export function recordingContext(): { context: Context; calls: Call[] } {
  const calls: Call[] = []
  const record = (method: string, args: readonly unknown[], result: unknown = `${method} result`) => {
    calls.push({ method, args })
    return result
  }
  /** An object whose every method records `<prefix><name>` and resolves to a marker string. */
  const recorder = (prefix: string): unknown =>
    new Proxy(() => {}, {
      apply: (_, __, args) => Promise.resolve(record(`${prefix}\`\``, args)),
      get: (_, key) =>
        typeof key === 'symbol' || key === 'then'
          ? undefined
          : (...args: unknown[]) =>
              key === 'collection'
                ? record(`${prefix}collection`, args, recorder(`${prefix}collection(${String(args[0])}).`))
                : Promise.resolve(record(`${prefix}${key}`, args)),
    })
  const context = new Proxy({} as Context, {
    get(_, key) {
      switch (key) {
        case 'db':
        case 'ai':
        case 'cache':
        case 'log':
          return recorder(`${key}.`)
        case 'run':
          return undefined
        case 'metric':
          return (definition: { name: string }) => recorder(`metric(${definition.name}).`)
        case 'step':
          return async (name: string, fn: () => unknown) => record('step', [name], await fn())
        case 'subscribe':
          return (pattern: string) =>
            record(
              'subscribe',
              [pattern],
              (async function* () {
                yield { id: 'e1', name: pattern, data: { n: 1 }, at: '2026-01-01T00:00:00.000Z' }
              })(),
            )
        default:
          return typeof key === 'symbol' ? undefined : (...args: unknown[]) => Promise.resolve(record(key, args))
      }
    },
  })
  return { context, calls }
}
