/**
 * Policies as values: each has one `execute(fn, ctx)`, and `wrap(a, b, c)` composes them,
 * outermost first — in the spirit of cockatiel. The runtime applies the declared ones
 * (`retry`, `timeout`, `circuitBreaker`, `rateLimit`, `fallback`, `cache`) to every run
 * durably; these values are the same behaviour for code of your own.
 *
 * @example
 * const careful = wrap(fallback('unknown'), timeout(clock, 2000), bulkhead(4))
 * const answer = await careful.execute(() => lookup(id))
 */
export interface PolicyContext {
  /** Aborted when a timeout (or whoever calls) gives up on the attempt. */
  readonly signal?: AbortSignal
}

export interface Policy {
  execute<T>(fn: (ctx: PolicyContext) => Promise<T> | T, ctx?: PolicyContext): Promise<T>
}

/** Compose policies: `wrap(a, b).execute(fn)` is `a.execute(() => b.execute(fn))`. */
export function wrap(...policies: readonly Policy[]): Policy {
  return {
    execute<T>(fn: (ctx: PolicyContext) => Promise<T> | T, ctx: PolicyContext = {}): Promise<T> {
      const run = (index: number, inner: PolicyContext): Promise<T> => {
        const policy = policies[index]
        if (!policy) return Promise.resolve().then(() => fn(inner))
        return policy.execute((next) => run(index + 1, next), inner)
      }
      return run(0, ctx)
    },
  }
}
