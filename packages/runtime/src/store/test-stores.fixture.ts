/**
 * The stores every contract and runtime test runs against: SQLite always, PostgreSQL when
 * `BAC_TEST_POSTGRES_URL` is set (CI sets it). Each store gets a fresh file or a fresh schema.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { postgres } from './postgres/postgres-store.ts'
import { sqlite } from './sqlite/sqlite-store.ts'
import type { Store } from './store.ts'

export const POSTGRES_URL = process.env.BAC_TEST_POSTGRES_URL

let announced = false

/** One visible line when PostgreSQL tests are skipped, saying how to run them. */
export function announcePostgresSkip(): void {
  if (POSTGRES_URL || announced) return
  announced = true
  console.info(
    'PostgreSQL store tests skipped: set BAC_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run them (CI always does).',
  )
}

export interface TestStore {
  readonly name: 'sqlite' | 'postgres'
  /** A new, empty store (not opened). */
  make(): Promise<Store>
  /** A new store and a way to run raw SQL on its database (to set up states the API cannot). */
  makeWithSql(): Promise<{ store: Store; sql: (text: string) => Promise<void> }>
  /** A new, empty database, and a way to open stores on it (several, as several workers do). */
  shared(): Promise<() => Store>
}

export function tempFile(name = 'bac.db'): string {
  return join(mkdtempSync(join(tmpdir(), 'bac-test-')), name)
}

/** A connection string to a new, empty schema of the test database. */
export async function freshPostgresUrl(): Promise<string> {
  if (!POSTGRES_URL) throw new Error('BAC_TEST_POSTGRES_URL is not set')
  // Tagged with the test run (test/global-setup.ts), which drops its own schemas when it ends.
  const run = process.env.BAC_TEST_RUN ?? 'none'
  const schema = `bac_test_${run}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  await client.connect()
  await client.query(`CREATE SCHEMA ${schema}`)
  await client.end()
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

const sqliteStore: TestStore = {
  name: 'sqlite',
  make: async () => sqlite({ file: tempFile(), synchronous: 'normal' }),
  async makeWithSql() {
    const file = tempFile()
    return {
      store: sqlite({ file, synchronous: 'normal' }),
      sql: async (text) => {
        const db = new Database(file)
        db.exec(text)
        db.close()
      },
    }
  },
  async shared() {
    const file = tempFile()
    return () => sqlite({ file, synchronous: 'normal' })
  },
}

const postgresStore: TestStore = {
  name: 'postgres',
  make: async () => postgres({ url: await freshPostgresUrl() }),
  async makeWithSql() {
    const url = await freshPostgresUrl()
    return {
      store: postgres({ url }),
      sql: async (text) => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        await client.query(text)
        await client.end()
      },
    }
  },
  async shared() {
    const url = await freshPostgresUrl()
    return () => postgres({ url })
  },
}

export const testStores: readonly TestStore[] = [sqliteStore, ...(POSTGRES_URL ? [postgresStore] : [])]
