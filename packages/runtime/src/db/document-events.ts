/**
 * A document's created event happens once, however it is announced: the db emits
 * `Order.created` with the write, and code that then sends it again for the same document —
 * the seeds' `const order = await db.Orders.create(data); await send($.Order.created, order)` —
 * sends a duplicate, not a second event. Both carry this key: the document and when it was
 * created (one deleted and created again is created twice). Updates and deletions are not
 * matched: two in one millisecond would look alike, and an event must never be lost.
 *
 * @example
 * documentEventKey('Order.created', { $id: 'o1', $type: 'Order', $createdAt: '2026-…' }) // 'doc:Order:o1:created:2026-…'
 */
export function documentEventKey(name: string, payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object') return undefined
  const { $id, $type, $createdAt } = payload as Record<string, unknown>
  if (typeof $id !== 'string' || typeof $type !== 'string' || typeof $createdAt !== 'string') return undefined
  return name === `${$type}.created` ? `doc:${$type}:${$id}:created:${$createdAt}` : undefined
}
