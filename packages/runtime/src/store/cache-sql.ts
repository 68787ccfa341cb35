/**
 * The shared result cache's writes, used by the cache store and by document transactions:
 * dropping entries by key or tag, and the write stamps that keep a result computed before a
 * document write from being cached after it. On PostgreSQL, document writes take a shared lock
 * per type and a cache write an exclusive one, so a cache write waits for the document writes
 * in flight and then sees their stamps; document writes never wait for each other.
 *
 * @example
 * const dropped = await stampAndDrop(tx, ['Product'], ['Product', 'Product:p1'], now, true)
 */
import { type Kysely, sql } from 'kysely'
import type { Database } from './schema.ts'

/** The class (first key) of the per-type cache locks: 'bac' + 2. */
const CACHE_LOCK_CLASS = 0x62_61_63_02
/** Stamps older than this are pruned: a run computing a cached result for longer may cache a stale one. */
const STAMP_LIFETIME = 24 * 60 * 60 * 1000

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

async function lockTypes(tx: Kysely<Database>, types: readonly string[], shared: boolean): Promise<void> {
  // In one order, so two transactions never wait on each other's locks in a cycle.
  for (const type of [...types].sort()) {
    if (shared) await sql`select pg_advisory_xact_lock_shared(${CACHE_LOCK_CLASS}, hashtext(${type}))`.execute(tx)
    else await sql`select pg_advisory_xact_lock(${CACHE_LOCK_CLASS}, hashtext(${type}))`.execute(tx)
  }
}

/** Drop these entries; the keys that were there. */
export async function dropKeys(tx: Kysely<Database>, keys: readonly string[]): Promise<string[]> {
  const dropped: string[] = []
  for (const chunk of chunks(keys, 200)) {
    const rows = await tx.deleteFrom('bac_cache').where('key', 'in', chunk).returning('key').execute()
    dropped.push(...rows.map((r) => r.key))
    await tx.deleteFrom('bac_cache_tags').where('key', 'in', chunk).execute()
  }
  return dropped
}

/** Documents of `types` were written now: stamp that, and drop the entries tagged with `tags`. */
export async function stampAndDrop(
  tx: Kysely<Database>,
  types: readonly string[],
  tags: readonly string[],
  now: number,
  postgres: boolean,
): Promise<string[]> {
  if (postgres) await lockTypes(tx, types, true)
  if (types.length > 0)
    await tx
      .insertInto('bac_cache_stamps')
      .values(types.map((type) => ({ type, at: now })))
      .execute()
  const keys = new Set<string>()
  for (const chunk of chunks(tags, 200)) {
    for (const row of await tx.selectFrom('bac_cache_tags').select('key').where('tag', 'in', chunk).execute())
      keys.add(row.key)
  }
  return keys.size > 0 ? dropKeys(tx, [...keys]) : []
}

/** Whether documents of `types` were written at or after `since` (waiting for writes in flight). */
export async function writtenSince(
  tx: Kysely<Database>,
  types: readonly string[],
  since: number,
  now: number,
  postgres: boolean,
): Promise<boolean> {
  if (types.length === 0) return false
  if (postgres) await lockTypes(tx, types, false)
  await tx
    .deleteFrom('bac_cache_stamps')
    .where('at', '<', now - STAMP_LIFETIME)
    .execute()
  const stamp = await tx
    .selectFrom('bac_cache_stamps')
    .select('at')
    .where('type', 'in', [...types])
    .where('at', '>=', since)
    .limit(1)
    .executeTakeFirst()
  return stamp !== undefined
}
