/**
 * `$.stream.subscribe(pattern)`: the events that match, as an async iterator, from the moment
 * iteration starts. For live views and tests; durable processing belongs in `on`.
 *
 * @example
 * for await (const event of $.stream.subscribe($.Order.status_changed)) {
 *   console.log('Order status:', event.data.status)
 * }
 */
import { current, type EventEnvelope } from './context.ts'
import { normalizePattern, type PatternInput } from './pattern.ts'
import type { PayloadOfPattern } from './types.ts'

function subscribe<const P extends PatternInput>(pattern: P): AsyncIterable<EventEnvelope<PayloadOfPattern<P>>> {
  const normalized = normalizePattern(pattern, '$.stream.subscribe()')
  return {
    [Symbol.asyncIterator]: () =>
      current('$.stream.subscribe()').subscribe(normalized)[Symbol.asyncIterator]() as AsyncIterator<
        EventEnvelope<PayloadOfPattern<P>>
      >,
  }
}

export const stream = Object.freeze({ subscribe })
