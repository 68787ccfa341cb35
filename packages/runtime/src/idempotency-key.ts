/**
 * Idempotency keys — of a send, a call, a db create: a non-empty string, or none. A number would
 * be stored as its text and an object not at all; an empty string would silently be no key.
 *
 * @example
 * const key = idempotencyKeyOf(options) // string | undefined, or a ValidationError
 */
import { ValidationError } from '@bac/sdk'

/** The idempotency key a send or call gave: a non-empty string, or none. */
export function idempotencyKeyOf(options: { readonly idempotencyKey?: unknown }): string | undefined {
  const key: unknown = options.idempotencyKey
  if (key === undefined || (typeof key === 'string' && key !== '')) return key
  const received = typeof key === 'string' ? 'an empty string' : `${typeof key} ${JSON.stringify(key)}`
  throw new ValidationError(`idempotencyKey must be a non-empty string, got ${received}`, [
    { path: 'idempotencyKey', message: 'must be a non-empty string', expected: 'a non-empty string', received },
  ])
}
