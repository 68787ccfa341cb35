/**
 * What the PostgreSQL benchmarks share: a fresh schema per measurement (dropped afterwards),
 * a bac store whose completed settlements can be observed, percentiles, and what a phase cost
 * the database (transactions and rows written, from PostgreSQL's own statistics).
 *
 * The server is `BAC_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import type { RunRecord, Store } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import pg from 'pg'

export const SERVER = process.env.BAC_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test'

/** `url` whose connections use `schema` (PostgreSQL's `options=-c search_path=...`). */
export function inSchema(url: string, schema: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('options', `-c search_path=${schema}`)
  return parsed.toString()
}

export interface Schema {
  readonly name: string
  /** A connection string whose search_path is the schema. */
  readonly url: string
  drop(): Promise<void>
}

export interface TestDatabase {
  readonly name: string
  readonly url: string
  drop(): Promise<void>
}

/**
 * A new database `bac_bench_<random>` on the server: its statistics (commits) count only what
 * the benchmark does, whatever else uses the server.
 */
export async function freshDatabase(server = SERVER): Promise<TestDatabase> {
  const name = `bac_bench_${randomBytes(4).toString('hex')}`
  await sql(server, `create database ${name}`)
  const url = new URL(server)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await sql(server, `drop database if exists ${name} with (force)`)
    },
  }
}

/** A new schema `bac_bench_<random>` on `url`'s database. */
export async function freshSchema(url = SERVER, prefix = 'bac_bench'): Promise<Schema> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  await sql(url, `create schema ${name}`)
  return {
    name,
    url: inSchema(url, name),
    drop: async () => {
      await sql(url, `drop schema if exists ${name} cascade`)
    },
  }
}

/** One statement on a connection of its own. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}

/**
 * A PostgreSQL store that calls `onCompleted` once a run's completion has committed: the moment
 * `rt.runs.get` would show it `completed` — what DBOS's `getResult` waits for.
 */
export function observedStore(
  options: { url: string; max?: number },
  onCompleted: (run: RunRecord, at: number) => void,
): Store {
  const store = postgres(options)
  const settle = store.settle.bind(store)
  store.settle = async (id, owner, settlement) => {
    const record = await settle(id, owner, settlement)
    if (record && settlement.status === 'completed') onCompleted(record, now())
    return record
  }
  return store
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now()

/** Single-row INSERT commits per second on `connections` connections at once: the server's ceiling. */
export async function rawCommits(url: string, connections: number, seconds = 2): Promise<number> {
  const schema = await freshSchema(url, 'bac_bench_raw')
  const pool = new pg.Pool({ connectionString: schema.url, max: connections })
  try {
    await pool.query('create table t (id bigserial primary key, payload text not null)')
    const payload = JSON.stringify({ n: 0, note: 'x'.repeat(40) })
    let commits = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() - started < seconds * 1000) {
          await pool.query('insert into t (payload) values ($1)', [payload])
          commits++
        }
      }),
    )
    return commits / ((performance.now() - started) / 1000)
  } finally {
    await pool.end()
    await schema.drop()
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

export interface DatabaseCost {
  /** Transactions committed in the database (a statement outside BEGIN is one). */
  readonly commits: number
  /** Rows inserted, updated and deleted in the schema's tables. */
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
}

/**
 * The database's counters now. PostgreSQL flushes a backend's statistics at most once a second,
 * and for good when it disconnects: read after the measured pools are closed.
 */
export async function databaseCost(url: string, schema: string): Promise<DatabaseCost> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const db = await client.query<{ commits: string }>(
      'select xact_commit as commits from pg_stat_database where datname = current_database()',
    )
    const tables = await client.query<{ inserted: string; updated: string; deleted: string }>(
      `select coalesce(sum(n_tup_ins), 0) as inserted, coalesce(sum(n_tup_upd), 0) as updated,
              coalesce(sum(n_tup_del), 0) as deleted
         from pg_stat_user_tables where schemaname = $1`,
      [schema],
    )
    const row = tables.rows[0]
    return {
      commits: Number(db.rows[0]?.commits ?? 0),
      inserted: Number(row?.inserted ?? 0),
      updated: Number(row?.updated ?? 0),
      deleted: Number(row?.deleted ?? 0),
    }
  } finally {
    await client.end()
  }
}

/**
 * CPU seconds the PostgreSQL server has used so far — its processes alive now, and those that
 * exited (their time is added to the postmaster's children's) — when it runs on this machine
 * (Linux); `undefined` otherwise. Server-wide: anything else using the server counts too.
 */
export async function serverCpu(url: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    // Its backend, alive while it is read: its parent is the postmaster.
    const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid
    // The fields after "(comm) ": state, ppid, ...; utime, stime, cutime, cstime are 12th to 15th of those.
    const fields = (of: number | string) => {
      const text = readFileSync(`/proc/${of}/stat`, 'utf8')
      return text.slice(text.lastIndexOf(')') + 2).split(' ')
    }
    const postmaster = fields(pid ?? 0)[1] ?? ''
    const main = fields(postmaster)
    let ticks = Number(main[11]) + Number(main[12]) + Number(main[13]) + Number(main[14])
    for (const child of readdirSync('/proc')) {
      if (!/^\d+$/.test(child)) continue
      try {
        const f = fields(child)
        if (f[1] === postmaster) ticks += Number(f[11]) + Number(f[12])
      } catch {}
    }
    return ticks / 100 // USER_HZ
  } catch {
    return undefined
  } finally {
    await client.end()
  }
}

let statements = 0
let counting = false

/**
 * Statements sent so far by every `pg` client of this process (bac's store, DBOS and these
 * helpers share one `pg`): each is a round trip to the server. Counting starts at the first call.
 */
export function statementsSent(): number {
  if (!counting) {
    counting = true
    const query = pg.Client.prototype.query as (...args: unknown[]) => unknown
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      statements++
      return query.apply(this, args)
    } as unknown as typeof pg.Client.prototype.query
  }
  return statements
}

/** CPU seconds this process has used so far. */
export const processCpu = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

export function costPer(before: DatabaseCost, after: DatabaseCost, units: number): DatabaseCost {
  return {
    commits: (after.commits - before.commits) / units,
    inserted: (after.inserted - before.inserted) / units,
    updated: (after.updated - before.updated) / units,
    deleted: (after.deleted - before.deleted) / units,
  }
}
