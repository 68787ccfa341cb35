/**
 * `bulkhead(limit, queue?)`: at most `limit` calls at once; up to `queue` more wait their turn,
 * and beyond that a call is rejected at once with a `BulkheadRejectedError`. (Runs already get
 * this from `concurrency`, durably and across workers; this is for code of your own.)
 *
 * @example
 * const pool = bulkhead(4)
 * await Promise.all(urls.map((url) => pool.execute(() => fetch(url))))
 */
import { BacError } from '@bac/sdk'
import type { Policy } from './policy.ts'

export class BulkheadRejectedError extends BacError {
  readonly code = 'BAC_BULKHEAD_REJECTED'
}

export function bulkhead(limit: number, queue = Number.POSITIVE_INFINITY): Policy {
  let active = 0
  const waiting: (() => void)[] = []
  return {
    async execute(fn, ctx = {}) {
      if (active >= limit) {
        if (waiting.length >= queue)
          throw new BulkheadRejectedError(`bulkhead full: ${limit} running and ${waiting.length} waiting`)
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
      active++
      try {
        return await fn(ctx)
      } finally {
        active--
        waiting.shift()?.()
      }
    },
  }
}
