/**
 * How far this worker's clock is from the database's. Leases are stamped with each worker's
 * clock, so workers whose clocks disagree by more than the margin a lease leaves (a third of
 * it is renewed ahead) could take each other's runs: each worker checks its own clock against
 * the database's at start, warns when it is off by more than a sixth of a lease, and reports
 * the offset in its health.
 *
 * @example
 * const skewMs = await clockSkew(store, clock) // > 0: the database is ahead
 */
import type { Clock } from './clock/clock.ts'
import type { Store } from './store/store.ts'

export async function clockSkew(store: Store, clock: Clock): Promise<number> {
  const before = clock.now()
  const server = await store.serverTime()
  const after = clock.now()
  return Math.round(server - (before + after) / 2)
}

/** The largest offset from the database's clock a worker may have and keep leases exclusive. */
export const tolerableSkew = (leaseMs: number) => Math.floor(leaseMs / 6)
