/**
 * Documents as code sees them: a stored record becomes its fields plus `$id`, `$type`,
 * `$version` and ISO timestamps; what code hands in becomes plain stored fields (the `$` keys
 * are bac's, and JSON is what is stored).
 *
 * @example
 * toDoc({ type: 'Product', id: 'p1', data: { name: 'Lamp' }, version: 1, createdAt: 0, updatedAt: 0 })
 * // { name: 'Lamp', $id: 'p1', $type: 'Product', $version: 1, $createdAt: '1970-…', $updatedAt: '1970-…' }
 */
import type { Doc } from '@bac/sdk'
import { DbError } from '../errors.ts'
import type { DocumentRecord } from '../store/store.ts'
import { storable } from './json-value.ts'

export function toDoc<T>(record: DocumentRecord): Doc<T> {
  return {
    ...(record.data as T),
    $id: record.id,
    $type: record.type,
    $version: record.version,
    $createdAt: new Date(record.createdAt).toISOString(),
    $updatedAt: new Date(record.updatedAt).toISOString(),
  }
}

/** Stored fields: everything but the `$` keys a document carries. */
export function fieldsOf(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new DbError(`${what}: a document is an object of fields, got ${JSON.stringify(data) ?? typeof data}`)
  }
  return storable(Object.fromEntries(Object.entries(data).filter(([key]) => !key.startsWith('$'))), what) as Record<
    string,
    unknown
  >
}
