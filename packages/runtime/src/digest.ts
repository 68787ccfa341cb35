/**
 * A short digest of a value (a call's input, an event's payload, what a write changes), for the
 * durable keys of a run's units: the same value gives the same digest on every replay.
 *
 * @example
 * digest({ sku: 'lamp' }) // '5f1e…' (12 hex digits)
 */
import { createHash } from 'node:crypto'

export function digest(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value) ?? 'undefined')
    .digest('hex')
    .slice(0, 12)
}
