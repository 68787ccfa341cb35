/**
 * The document db under contention, on SQLite (a file, `synchronous` normal and full) and on
 * PostgreSQL, each figure beside a baseline measured in the same run on the same database:
 *
 * 1. Contended updates of one hot document, `{ $inc: { n: 1 } }` on Counter `c`, 16 at a time:
 *    - raw: `UPDATE t SET n = n + 1 WHERE id = 'c'`, each its own transaction — on PostgreSQL
 *      from 16 connections (a pg.Pool of 16); on SQLite from one better-sqlite3 connection with
 *      the store's pragmas, back to back (better-sqlite3 is synchronous and SQLite has one
 *      writer at a time: 16 clients in one process would only take turns);
 *    - bac, `rt.db.update` outside any run, 16 promises in flight: the cost of the db write;
 *    - bac, in runs: `rt.send($.Counter.bumped)` with 16 sends in flight to a runtime of
 *      concurrency 16 whose handler does the `db.update` (a durable step), from the first send
 *      until `rt.drain()` returns — the run machinery (publish, claim, step record, settle) on
 *      top of the write.
 *    At the end of each, n must have grown by exactly the number of updates ("exact"), or the
 *    benchmark fails.
 * 2. Uncontended transactions, 16 at a time, each lane on an account of its own:
 *    - raw: BEGIN; SELECT … FOR UPDATE; UPDATE balance + 1; INSERT a ledger row; COMMIT on
 *      PostgreSQL; on SQLite the same with BEGIN IMMEDIATE (as the store begins) and a plain SELECT;
 *    - bac: `rt.db.transaction(async (tx) => { tx.get(..., { forUpdate: true }); tx.update(...,
 *      { $inc: { balance: 1 } }); tx.create('Ledger', ...) })`.
 *    Checked: balances sum to the transactions and there is a ledger row for each.
 *
 * bac's PostgreSQL pool has 16 connections, like the baseline's. Also printed, per operation:
 * statements executed (PostgreSQL: round trips, counted in pg's `Client.query`; SQLite: counted
 * in better-sqlite3's `Statement` run/get/all/iterate, BEGIN and COMMIT included), CPU time of
 * this process and of the PostgreSQL server (when it runs on this machine; server-wide). Every
 * statement either side executes in the measured interval counts, whoever sends it.
 * PostgreSQL is `BAC_BENCH_POSTGRES_URL` (else `BAC_BENCH_PG`, else
 * `postgres://postgres@127.0.0.1:5432/test`), in fresh schemas dropped afterwards. Also printed:
 * the load average as each store starts (other work on the machine shows in the figures) and
 * what bac logged at warn or error.
 *
 *   pnpm --filter @bac/bench db-contention [updates] [transactions] [stores: sqlite-normal,sqlite-full,postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, jsonLogger, type Runtime, type Store } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import { sqlite, sqlitePragmas } from '@bac/runtime/sqlite'
import { $, business, db, on } from '@bac/sdk'
import Database from 'better-sqlite3'
import pg from 'pg'
import { freshSchema, processCpu, SERVER, serverCpu, sql, statementsSent } from './postgres-bench.ts'

const UPDATES = Number(process.argv[2] ?? 3000)
const TRANSACTIONS = Number(process.argv[3] ?? 3000)
const STORES = (process.argv[4] ?? 'sqlite-normal,sqlite-full,postgres').split(',')
const CONCURRENCY = 16
const WARMUP = Math.max(100, Math.round(UPDATES / 10))
const POSTGRES_URL = process.env.BAC_BENCH_POSTGRES_URL ?? SERVER

interface Row {
  readonly name: string
  /** Operations per second. */
  readonly rate: number
  readonly check: string
  /** Per operation: statements executed, CPU ms of this process and of the PostgreSQL server. */
  readonly statements: number
  readonly nodeCpu: number
  readonly serverCpu?: number
}

interface Table {
  readonly title: string
  readonly rows: Row[]
  readonly warnings: string[]
}

/** Fail loudly: the figures of a run that lost or doubled writes mean nothing. */
function verify(what: string, actual: number, expected: number): string {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${expected}, found ${actual} — writes were lost or doubled`)
  }
  return 'exact'
}

/** `count` operations, `CONCURRENCY` in flight (each lane starts the next when one ends); per second. */
async function lanes(count: number, work: (n: number, lane: number) => Promise<unknown>): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, lane) => {
      while (next < count) await work(next++, lane)
    }),
  )
  return count / ((performance.now() - started) / 1000)
}

let sqliteStatements = 0

/** Count the statements better-sqlite3 executes (bac's store and the baseline share its `Statement`). */
function countSqliteStatements(): void {
  const probe = new Database(':memory:')
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>
  probe.close()
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method] as (...args: unknown[]) => unknown
    proto[method] = function (this: unknown, ...args: unknown[]) {
      sqliteStatements++
      return original.apply(this, args)
    }
  }
}

/** Statements executed so far, on either database. */
const statementsExecuted = () => statementsSent() + sqliteStatements

/** What a measurement cost, per operation: statements, CPU of node and of the PostgreSQL server. */
async function costed(
  count: number,
  server: string | undefined,
  measure: () => Promise<number>,
): Promise<{ rate: number; statements: number; nodeCpu: number; serverCpu?: number }> {
  const serverBefore = server ? await serverCpu(server) : undefined
  const statementsBefore = statementsExecuted()
  const cpuBefore = processCpu()
  const rate = await measure()
  const nodeCpu = ((processCpu() - cpuBefore) * 1000) / count
  const statements = (statementsExecuted() - statementsBefore) / count
  const serverAfter = server ? await serverCpu(server) : undefined
  return {
    rate,
    nodeCpu,
    statements,
    ...(serverBefore !== undefined && serverAfter !== undefined
      ? { serverCpu: ((serverAfter - serverBefore) * 1000) / count }
      : {}),
  }
}

const account = (lane: number) => `a${lane}`

/** The three bac rows: db.update outside runs, db.update in runs, db.transaction. */
async function bacRows(store: Store, server: string | undefined): Promise<{ rows: Row[]; warnings: string[] }> {
  const warnings: string[] = []
  const rt: Runtime = await createRuntime({
    business: business('db-contention', () => {
      on($.Counter.bumped, async () => {
        await db.update('Counter', 'c', { $inc: { n: 1 } })
      })
    }),
    store,
    concurrency: CONCURRENCY,
    logger: jsonLogger({ level: 'warn', write: (line) => warnings.push(line) }),
  })
  const rows: Row[] = []
  const counter = async () => ((await rt.db.get<{ n: number }>('Counter', 'c'))?.n ?? Number.NaN) as number
  try {
    await rt.start()
    await rt.db.create('Counter', { $id: 'c', n: 0 })
    for (let lane = 0; lane < CONCURRENCY; lane++) await rt.db.create('Account', { $id: account(lane), balance: 0 })

    // Warm up every path (kysely's compiled queries, the pool's connections, the JIT).
    await lanes(WARMUP, () => rt.db.update('Counter', 'c', { $inc: { n: 1 } }))
    await lanes(WARMUP, () => rt.send($.Counter.bumped, {}))
    await rt.drain()
    const transfer = (lane: number) =>
      rt.db.transaction(async (tx) => {
        const id = account(lane)
        const before = await tx.get<{ balance: number }>('Account', id, { forUpdate: true })
        if (!before) throw new Error(`no account ${id}`)
        await tx.update('Account', id, { $inc: { balance: 1 } })
        await tx.create('Ledger', { account: id, amount: 1, balanceBefore: before.balance })
      })
    await lanes(WARMUP, (_, lane) => transfer(lane))
    let n = await counter()
    verify('Counter c after the warm-up', n, 2 * WARMUP)

    const direct = await costed(UPDATES, server, () =>
      lanes(UPDATES, () => rt.db.update('Counter', 'c', { $inc: { n: 1 } })),
    )
    const afterDirect = await counter()
    rows.push({ name: 'bac rt.db.update', ...direct, check: verify('rt.db.update: n', afterDirect - n, UPDATES) })
    n = afterDirect

    const inRuns = await costed(UPDATES, server, async () => {
      const started = performance.now()
      await lanes(UPDATES, () => rt.send($.Counter.bumped, {}))
      await rt.drain()
      return UPDATES / ((performance.now() - started) / 1000)
    })
    const afterRuns = await counter()
    const completed = (await rt.runs.list({ status: 'completed', limit: 10 * (UPDATES + WARMUP) })).length
    verify('runs completed', completed, UPDATES + WARMUP)
    const dead = await rt.dlq.list(100)
    if (dead.length > 0) throw new Error(`${dead.length} runs dead-lettered: ${JSON.stringify(dead[0])}`)
    rows.push({ name: 'bac db.update in runs', ...inRuns, check: verify('runs: n', afterRuns - n, UPDATES) })

    const transactions = await costed(TRANSACTIONS, server, () => lanes(TRANSACTIONS, (_, lane) => transfer(lane)))
    let balances = 0
    for (let lane = 0; lane < CONCURRENCY; lane++) {
      balances += (await rt.db.get<{ balance: number }>('Account', account(lane)))?.balance ?? Number.NaN
    }
    verify('ledger documents', await rt.db.count('Ledger'), TRANSACTIONS + WARMUP)
    rows.push({
      name: 'bac rt.db.transaction',
      ...transactions,
      check: verify('sum of balances', balances, TRANSACTIONS + WARMUP),
    })
  } finally {
    await rt.stop()
  }
  return { rows, warnings }
}

/** Raw better-sqlite3 with the store's pragmas: one connection, each write its own transaction. */
function sqliteRaw(file: string, synchronous: 'full' | 'normal'): Row[] {
  const raw = new Database(file)
  sqlitePragmas(raw, synchronous)
  try {
    raw.exec(`create table t (id text primary key, n integer not null);
      insert into t values ('c', 0);
      create table accounts (id text primary key, balance integer not null);
      create table ledger (id integer primary key, account text not null, amount integer not null, balance_before integer not null)`)
    const update = raw.prepare('update t set n = n + 1 where id = ?')
    const select = raw.prepare('select balance from accounts where id = ?')
    const credit = raw.prepare('update accounts set balance = balance + 1 where id = ?')
    const add = raw.prepare('insert into ledger (account, amount, balance_before) values (?, 1, ?)')
    const insertAccount = raw.prepare('insert into accounts values (?, 0)')
    for (let lane = 0; lane < CONCURRENCY; lane++) insertAccount.run(account(lane))
    // As bac's store begins its write transactions: IMMEDIATE, the write lock taken up front.
    const begin = raw.prepare('begin immediate')
    const commit = raw.prepare('commit')
    const rollback = raw.prepare('rollback')
    const transfer = (id: string) => {
      begin.run()
      try {
        const { balance } = select.get(id) as { balance: number }
        credit.run(id)
        add.run(id, balance)
        commit.run()
      } catch (error) {
        rollback.run()
        throw error
      }
    }
    const timed = (count: number, one: (n: number) => void) => {
      const cpuBefore = processCpu()
      const statementsBefore = statementsExecuted()
      const started = performance.now()
      for (let i = 0; i < count; i++) one(i)
      return {
        rate: count / ((performance.now() - started) / 1000),
        statements: (statementsExecuted() - statementsBefore) / count,
        nodeCpu: ((processCpu() - cpuBefore) * 1000) / count,
      }
    }
    for (let i = 0; i < WARMUP; i++) update.run('c')
    const updates = timed(UPDATES, () => update.run('c'))
    const n = (raw.prepare('select n from t').get() as { n: number }).n
    const transactions = timed(TRANSACTIONS, (i) => transfer(account(i % CONCURRENCY)))
    const sum = (raw.prepare('select sum(balance) as s from accounts').get() as { s: number }).s
    const ledger = (raw.prepare('select count(*) as c from ledger').get() as { c: number }).c
    verify('raw ledger rows', ledger, TRANSACTIONS)
    return [
      { name: 'raw UPDATE', ...updates, check: verify('raw UPDATE: n', n, UPDATES + WARMUP) },
      { name: 'raw transaction', ...transactions, check: verify('raw sum of balances', sum, TRANSACTIONS) },
    ]
  } finally {
    raw.close()
  }
}

/** Each bac row under its baseline: updates (raw, direct, in runs), then transactions (raw, bac). */
function arrange(rawUpdate: Row | undefined, rawTransaction: Row | undefined, bac: readonly Row[]): Row[] {
  return [rawUpdate, bac[0], bac[1], rawTransaction, bac[2]].filter((r): r is Row => r !== undefined)
}

async function sqliteTable(synchronous: 'full' | 'normal'): Promise<Table> {
  const dir = mkdtempSync(join(tmpdir(), 'bac-contention-'))
  try {
    const [rawUpdate, rawTransaction] = sqliteRaw(join(dir, 'raw.db'), synchronous)
    const bac = await bacRows(sqlite({ file: join(dir, 'bac.db'), synchronous }), undefined)
    return {
      title: `SQLite file, synchronous=${synchronous}`,
      rows: arrange(rawUpdate, rawTransaction, bac.rows),
      warnings: bac.warnings,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Raw SQL from a pool of 16 connections. */
async function postgresRaw(url: string): Promise<Row[]> {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY })
  try {
    await pool.query(`create table t (id text primary key, n bigint not null);
      insert into t values ('c', 0);
      create table accounts (id text primary key, balance bigint not null);
      create table ledger (id bigserial primary key, account text not null, amount bigint not null, balance_before bigint not null)`)
    for (let lane = 0; lane < CONCURRENCY; lane++)
      await pool.query('insert into accounts values ($1, 0)', [account(lane)])
    const update = () => pool.query('update t set n = n + 1 where id = $1', ['c'])
    const transfer = async (id: string) => {
      const client = await pool.connect()
      try {
        await client.query('begin')
        const { balance } = (await client.query('select balance from accounts where id = $1 for update', [id]))
          .rows[0] as { balance: string }
        await client.query('update accounts set balance = balance + 1 where id = $1', [id])
        await client.query('insert into ledger (account, amount, balance_before) values ($1, 1, $2)', [id, balance])
        await client.query('commit')
      } catch (error) {
        await client.query('rollback').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    }
    await lanes(WARMUP, update) // and opens the 16 connections
    const updates = await costed(UPDATES, url, () => lanes(UPDATES, update))
    const n = Number((await pool.query('select n from t')).rows[0].n)
    const transactions = await costed(TRANSACTIONS, url, () =>
      lanes(TRANSACTIONS, (_, lane) => transfer(account(lane))),
    )
    const sum = Number((await pool.query('select sum(balance) as s from accounts')).rows[0].s)
    verify('raw ledger rows', Number((await pool.query('select count(*) as c from ledger')).rows[0].c), TRANSACTIONS)
    return [
      { name: 'raw UPDATE', ...updates, check: verify('raw UPDATE: n', n, UPDATES + WARMUP) },
      { name: 'raw transaction', ...transactions, check: verify('raw sum of balances', sum, TRANSACTIONS) },
    ]
  } finally {
    await pool.end()
  }
}

async function postgresTable(): Promise<Table> {
  const rawSchema = await freshSchema(POSTGRES_URL, 'bac_bench_contention_raw')
  const bacSchema = await freshSchema(POSTGRES_URL, 'bac_bench_contention')
  try {
    const [rawUpdate, rawTransaction] = await postgresRaw(rawSchema.url)
    const bac = await bacRows(postgres({ url: bacSchema.url, max: CONCURRENCY }), POSTGRES_URL)
    const [version] = await sql<{ server_version: string }>(POSTGRES_URL, 'show server_version')
    return {
      title: `PostgreSQL ${version?.server_version ?? ''}, pools of ${CONCURRENCY} connections`,
      rows: arrange(rawUpdate, rawTransaction, bac.rows),
      warnings: bac.warnings,
    }
  } finally {
    await rawSchema.drop()
    await bacSchema.drop()
  }
}

function print(table: Table): void {
  const base = { update: table.rows[0]?.rate ?? Number.NaN, transaction: table.rows[3]?.rate ?? Number.NaN }
  console.log(`\n${table.title}`)
  console.log(
    `${'operation'.padEnd(24)} ${'ops/s'.padStart(8)} ${'ratio'.padStart(6)}  check  ${'stmts/op'.padStart(8)} ${'node ms/op'.padStart(10)} ${'server ms/op'.padStart(12)}`,
  )
  table.rows.forEach((row, i) => {
    const baseline = i < 3 ? base.update : base.transaction
    console.log(
      [
        row.name.padEnd(24),
        row.rate.toFixed(0).padStart(8),
        (row.rate / baseline).toFixed(2).padStart(6),
        ` ${row.check.padEnd(5)}`,
        row.statements.toFixed(1).padStart(8),
        row.nodeCpu.toFixed(3).padStart(10),
        (row.serverCpu === undefined ? '-' : row.serverCpu.toFixed(3)).padStart(12),
      ].join(' '),
    )
  })
  if (table.warnings.length > 0) {
    console.log(`${table.warnings.length} warnings or errors logged by bac; the first:`)
    for (const line of table.warnings.slice(0, 3)) console.log(`  ${line}`)
  }
}

statementsSent() // start counting
countSqliteStatements()
console.log(
  `db contention: ${UPDATES} updates of one document and ${TRANSACTIONS} transactions, ${CONCURRENCY} at a time, node ${process.version}`,
)
for (const store of STORES) {
  const started = performance.now()
  // Anything else busy on this machine (or this PostgreSQL server) shows in the figures.
  const load = loadavg()[0]?.toFixed(2)
  if (store === 'sqlite-normal') print(await sqliteTable('normal'))
  else if (store === 'sqlite-full') print(await sqliteTable('full'))
  else if (store === 'postgres') print(await postgresTable())
  else throw new Error(`unknown store ${store}; use sqlite-normal, sqlite-full or postgres`)
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s; load average at its start ${load})`)
}
