/**
 * The embedded store: one SQLite file through better-sqlite3, in WAL mode. The file and its
 * directory are created on first use. `synchronous: 'full'` (the default) makes every commit
 * survive power loss as well as `kill -9`; `'normal'` survives `kill -9` and is faster.
 *
 * @example
 * const store = sqlite({ file: '.bac/dev.db' })
 * const rt = await createRuntime({ business, store })
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, type SqliteDatabase, SqliteDialect } from 'kysely'
import { KyselyStore } from '../kysely-store.ts'
import type { Database as Schema } from '../schema.ts'
import type { Store } from '../store.ts'

export interface SqliteOptions {
  /** Path of the database file, or `':memory:'` (default `.bac/dev.db`). */
  readonly file?: string
  readonly synchronous?: 'full' | 'normal'
}

/** The pragmas every connection gets; the benchmark measures its ceiling with the same ones. */
export function sqlitePragmas(database: Database.Database, synchronous: 'full' | 'normal'): void {
  database.pragma('journal_mode = WAL')
  database.pragma(`synchronous = ${synchronous.toUpperCase()}`)
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
}

/** `$regex` in document queries: SQLite has no REGEXP of its own. */
function addRegexp(database: Database.Database): void {
  const compiled = new Map<string, RegExp>()
  database.function('bac_regexp', { deterministic: true }, (pattern, flags, value) => {
    if (typeof value !== 'string') return 0
    const key = `${flags}/${pattern}`
    let regexp = compiled.get(key)
    if (!regexp) {
      regexp = new RegExp(String(pattern), String(flags))
      if (compiled.size > 200) compiled.clear()
      compiled.set(key, regexp)
    }
    return regexp.test(value) ? 1 : 0
  })
}

/**
 * Kysely prepares every query it runs; preparing costs more than running these small
 * statements, so keep the prepared ones (by SQL text, most recent 500).
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>()
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql)
      if (statement) {
        cache.delete(sql)
      } else {
        statement = database.prepare(sql)
        if (cache.size >= 500) cache.delete(cache.keys().next().value as string)
      }
      cache.set(sql, statement)
      return statement as unknown as ReturnType<SqliteDatabase['prepare']>
    },
  }
}

/**
 * Hear commits of other processes on the same file (a script beside `bac dev`, two runtimes):
 * SQLite has no notifications, but `PRAGMA data_version` changes when another connection has
 * committed. Read every 200 ms — a look at the file's header — it wakes the dispatcher.
 */
function watchCommits(database: Database.Database): NonNullable<Store['listen']> {
  return async (_channel, onChange) => {
    const version = () => database.pragma('data_version', { simple: true })
    let seen = version()
    const timer = setInterval(() => {
      if (!database.open) return
      const now = version()
      if (now === seen) return
      seen = now
      onChange()
    }, 200)
    timer.unref()
    return async () => clearInterval(timer)
  }
}

export function sqlite(options: SqliteOptions = {}): Store {
  const file = options.file ?? '.bac/dev.db'
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const database = new Database(file)
  sqlitePragmas(database, options.synchronous ?? 'full')
  addRegexp(database)
  return new KyselyStore({
    kind: 'sqlite',
    db: new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }),
    where: file,
    ...(file === ':memory:' ? {} : { listen: watchCommits(database) }),
  })
}
