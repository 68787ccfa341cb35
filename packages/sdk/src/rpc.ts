/**
 * `$.rpc.<Service>.<operation>(input, options?)`: call an operation of a service by its name or
 * key, durably, and get its result. The service is looked up when the call runs.
 *
 * @example
 * const user = await $.rpc.UserService.getProfile(userId)
 */
import { type CallOptions, current } from './context.ts'
import type { Untyped } from './types.ts'

export type RpcCall = (input?: unknown, options?: CallOptions) => Promise<unknown>
/** Services and operations are looked up at call time, so any name is accepted (see `Untyped`). */
export type Rpc = { readonly [service: string]: Untyped }

const skip = (key: string | symbol): key is symbol => typeof key === 'symbol' || key === 'then'

export const rpc: Rpc = new Proxy({} as Rpc, {
  get(_, service) {
    if (skip(service)) return undefined
    return new Proxy({} as Record<string, RpcCall>, {
      get(__, operation) {
        if (skip(operation)) return undefined
        return (input?: unknown, options?: CallOptions) =>
          current(`$.rpc.${service}.${operation}()`).call(service, operation, input, options)
      },
    })
  },
})
