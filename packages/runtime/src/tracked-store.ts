/**
 * A store that counts its calls in flight, so the runtime can tell when it is quiet: nothing
 * being claimed, written or read. The virtual clock waits for quiet between timers, so the
 * retries and wake-ups a timer leads to are armed before time moves on.
 *
 * @example
 * const { store, quiet } = trackStore(sqlite())
 * await quiet()
 */
import type { Store } from './store/store.ts'

export interface TrackedStore {
  readonly store: Store
  /** Resolves when no call is in flight (after letting promise chains run). */
  quiet(): Promise<void>
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

export function trackStore(inner: Store): TrackedStore {
  let pending = 0
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const result = value.apply(target, args)
        if (!(result instanceof Promise)) return result
        pending++
        return result.finally(() => {
          pending--
        })
      }
    },
  })
  return {
    store,
    async quiet() {
      // Quiet means: nothing pending for several turns in a row (a settled call often starts the next).
      for (let calm = 0; calm < 5; ) {
        await turn()
        calm = pending === 0 ? calm + 1 : 0
      }
    },
  }
}
