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

export function storeFrom(value: string | undefined): Store {
  const where = value ?? process.env.BAC_STORE ?? DEFAULT_SERVER_DB
  return /^postgres(ql)?:\/\//.test(where) ? postgres({ url: where }) : sqlite({ file: where })
}

/** Where a store is, for messages. */
export function storeLabel(value: string | undefined): string {
  const where = value ?? process.env.BAC_STORE ?? DEFAULT_SERVER_DB
  return /^postgres(ql)?:\/\//.test(where) ? redactUrl(where) : where
}
