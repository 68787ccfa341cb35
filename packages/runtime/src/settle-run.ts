/**
 * Settling a run through a dropped connection: a settle that fails for a passing reason (the
 * database restarting, a connection cut, a serialization conflict) is tried again for a few
 * seconds before the run is left to its lease — which would run its code again once the lease
 * runs out. A settle is guarded by the lease, so trying again after one that did commit (only
 * its answer was lost) changes nothing; the run as stored then shows it settled.
 *
 * @example
 * const settled = await settleRun(store, run.id, workerId, { status: 'completed', result, now })
 */
import type { RunRecord, RunSettlement, Store } from './store/store.ts'

/** Waits between tries (ms): about 3 s in all. */
const BACKOFF = [100, 200, 400, 800, 1600]

export async function settleRun(
  store: Store,
  id: string,
  owner: string,
  settlement: RunSettlement,
): Promise<RunRecord | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const settled = await store.settle(id, owner, settlement)
      if (settled || attempt === 0) return settled
      // A try before this one may have committed.
      const run = await store.getRun(id)
      return run?.status === settlement.status && run.leaseOwner === undefined ? run : undefined
    } catch (error) {
      const wait = BACKOFF[attempt]
      if (wait === undefined || !isPassing(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}

/** PostgreSQL SQLSTATE classes and codes, and socket errors, that a later try may not meet. */
const PASSING_CODES = /^(08|57P0[123]|40001|40P01|53300|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|SQLITE_BUSY)/
const PASSING_MESSAGES =
  /Connection terminated|connection (is closed|timeout)|Client has encountered a connection error/i

export function isPassing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (
    (typeof code === 'string' && PASSING_CODES.test(code)) ||
    (typeof message === 'string' && PASSING_MESSAGES.test(message))
  )
}
