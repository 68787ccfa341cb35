/**
 * `--store`: a PostgreSQL URL or a SQLite file (default `.bac/server.db`). The URL's password is
 * never printed.
 *
 * @example
 * const store = storeFrom(values.store)
 */
import type { Store } from '@bac/runtime'
import { postgres, redactUrl } from '@bac/runtime/postgres'
import { sqlite } from '@bac/runtime/sqlite'

export const DEFAULT_SERVER_DB = '.bac/server.db'

const where = (value: string | undefined) => value ?? process.env.BAC_STORE ?? DEFAULT_SERVER_DB

/** Whether `--store` (or its default) names a PostgreSQL database, which many workers can share. */
export const isPostgres = (value: string | undefined) => /^postgres(ql)?:\/\//.test(where(value))

export function storeFrom(value: string | undefined): Store {
  return isPostgres(value) ? postgres({ url: where(value) }) : sqlite({ file: where(value) })
}

/** Where a store is, for messages. */
export function storeLabel(value: string | undefined): string {
  return isPostgres(value) ? redactUrl(where(value)) : where(value)
}
