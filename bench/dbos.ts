/**
 * bac beside DBOS Transact on the same workload and the same PostgreSQL, in one run: a
 * workflow (bac: an event handler) of three trivial steps, W of them with at most 50 in flight
 * — each lane starts one, waits until it is done, starts the next. Throughput is from the first
 * start to the last completion; latency is start → done at that concurrency (closed loop).
 *
 * "Done" means the same durable thing on both sides:
 * - DBOS: `DBOS.startWorkflow(wf)(n)` then `handle.getResult()` — the workflow's output is
 *   recorded in its system tables.
 * - bac: `rt.send('Bench.event', { n })`, then the run the event created is settled
 *   `completed` in the store (the settle transaction has committed — observed by wrapping the
 *   store's `settle`, not by a hook inside the handler, which would fire before that commit).
 *
 * Both in this one process, one worker each, connection pools of 10 (DBOS's default; bac's
 * default too), each in a fresh schema of a benchmark database of its own (so its statistics
 * count only this run), each with a warm-up of 10% first. Also printed, per workflow:
 * statements sent (round trips; both use the same `pg`, counted in its `Client.query`),
 * transactions committed and rows written (PostgreSQL's statistics), and CPU time of this
 * process and of the PostgreSQL server (when it runs on this machine); and, as the floor of
 * any durable write, single-row INSERT commits per second on as many connections.
 * (The pg DeprecationWarning on stderr comes from DBOS's use of pg, not from bac.)
 *
 *   pnpm --filter @bac/bench dbos [workflows] [dbos-first]
 */
import type { RunRecord } from '@bac/runtime'
import { createRuntime, jsonLogger } from '@bac/runtime'
import { DBOS } from '@dbos-inc/dbos-sdk'
import {
  costPer,
  type DatabaseCost,
  databaseCost,
  freshDatabase,
  freshSchema,
  now,
  observedStore,
  percentile,
  processCpu,
  rawCommits,
  serverCpu,
  sql,
  statementsSent,
} from './postgres-bench.ts'
import { threeSteps } from './three-steps.ts'

const WORKFLOWS = Number(process.argv[2] ?? 2000)
const DBOS_FIRST = process.argv[3] === 'dbos-first'
const WARMUP = Math.max(50, Math.round(WORKFLOWS / 10))
const IN_FLIGHT = 50
const POOL = 10

interface Result {
  readonly rate: number
  readonly p50: number
  readonly p99: number
  readonly cost: DatabaseCost
  /** Statements (round trips) per workflow. */
  readonly statements: number
  /** CPU milliseconds per workflow: this process, the PostgreSQL server. */
  readonly nodeCpu: number
  readonly serverCpu: number | undefined
}

/** `count` units at most `IN_FLIGHT` at a time: the rate and each one's start → done time. */
async function closedLoop(count: number, one: (n: number) => Promise<void>, offset = 0) {
  const took: number[] = []
  let next = 0
  const started = now()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        const n = offset + next++
        const began = now()
        await one(n)
        took.push(now() - began)
      }
    }),
  )
  const rate = count / ((now() - started) / 1000)
  took.sort((a, b) => a - b)
  return { rate, p50: percentile(took, 0.5), p99: percentile(took, 0.99) }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Warm up, then measure `one` over WORKFLOWS; `close` shuts the system's pool. PostgreSQL
 * publishes a busy backend's statistics up to 10 s after it goes idle, and at once when it
 * disconnects: the counters are read after an idle wait before, and after `close`.
 */
async function measure(url: string, schema: string, one: (n: number) => Promise<void>, close: () => Promise<void>) {
  await closedLoop(WARMUP, one)
  await sleep(11_000)
  const before = await databaseCost(url, schema)
  const serverBefore = await serverCpu(url)
  const cpuBefore = processCpu()
  const statementsBefore = statementsSent()
  const result = await closedLoop(WORKFLOWS, one, WARMUP)
  const statements = (statementsSent() - statementsBefore) / WORKFLOWS
  const nodeCpu = processCpu() - cpuBefore
  await close()
  await sleep(300)
  const serverAfter = await serverCpu(url)
  return {
    ...result,
    cost: costPer(before, await databaseCost(url, schema), WORKFLOWS),
    statements,
    nodeCpu: (nodeCpu * 1000) / WORKFLOWS,
    serverCpu:
      serverBefore === undefined || serverAfter === undefined
        ? undefined
        : ((serverAfter - serverBefore) * 1000) / WORKFLOWS,
  }
}

async function measureDbos(url: string): Promise<Result> {
  // DBOS creates its schema and system tables at launch.
  const schema = `dbos_bench_${Math.random().toString(16).slice(2, 10)}`
  async function threeStepWorkflow(n: number): Promise<number> {
    const a = await DBOS.runStep(async () => n * 2, { name: 'a' })
    const b = await DBOS.runStep(async () => a + 1, { name: 'b' })
    return DBOS.runStep(async () => b * 3, { name: 'c' })
  }
  const workflow = DBOS.registerWorkflow(threeStepWorkflow, { name: 'threeSteps' })
  DBOS.setConfig({
    name: 'bac-bench',
    applicationVersion: '0.1.0',
    systemDatabaseUrl: url,
    systemDatabaseSchemaName: schema,
    systemDatabasePoolSize: POOL,
    logLevel: 'error',
  })
  let launched = false
  try {
    await DBOS.launch()
    launched = true
    const one = async (n: number) => {
      const handle = await DBOS.startWorkflow(workflow)(n)
      if ((await handle.getResult()) !== (n * 2 + 1) * 3) throw new Error(`workflow ${n}: wrong result`)
    }
    return await measure(url, schema, one, async () => {
      launched = false
      await DBOS.shutdown()
    })
  } finally {
    if (launched) await DBOS.shutdown()
    await sql(url, `drop schema if exists ${schema} cascade`)
  }
}

async function measureBac(url: string): Promise<Result> {
  const schema = await freshSchema(url)
  const waiting = new Map<number, () => void>()
  const rt = await createRuntime({
    business: threeSteps(),
    store: observedStore({ url: schema.url, max: POOL }, (run: RunRecord) => {
      const n = (run.input as { n: number }).n
      waiting.get(n)?.()
      waiting.delete(n)
    }),
    concurrency: IN_FLIGHT,
    logger: jsonLogger({ level: 'warn' }),
  })
  try {
    await rt.start()
    const one = async (n: number) => {
      const done = new Promise<void>((resolve) => waiting.set(n, resolve))
      await rt.send('Bench.event', { n })
      await done
    }
    return await measure(url, schema.name, one, () => rt.stop())
  } finally {
    await rt.stop()
    await schema.drop()
  }
}

statementsSent() // start counting
const database = await freshDatabase()
let ceiling: number
let bac: Result
let dbos: Result
try {
  ceiling = await rawCommits(database.url, POOL)
  // Which goes first is an argument: the second runs on a server the first has warmed (or tired).
  if (DBOS_FIRST) {
    dbos = await measureDbos(database.url)
    bac = await measureBac(database.url)
  } else {
    bac = await measureBac(database.url)
    dbos = await measureDbos(database.url)
  }
} finally {
  await database.drop()
}

const cpu = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(2))
const row = (name: string, r: Result) =>
  [
    name.padEnd(20),
    r.rate.toFixed(0).padStart(6),
    `${r.p50.toFixed(1)} ms`.padStart(9),
    `${r.p99.toFixed(1)} ms`.padStart(9),
    r.statements.toFixed(1).padStart(10),
    r.cost.commits.toFixed(1).padStart(7),
    `${r.cost.inserted.toFixed(1)} / ${r.cost.updated.toFixed(1)} / ${r.cost.deleted.toFixed(1)}`.padStart(19),
    `${cpu(r.nodeCpu)} / ${cpu(r.serverCpu)}`.padStart(25),
  ].join('  ')
console.log(
  `3-step workflows on PostgreSQL, ${WORKFLOWS} (after ${WARMUP} to warm up), ${IN_FLIGHT} in flight, ` +
    `pools of ${POOL}, ${DBOS_FIRST ? 'DBOS' : 'bac'} measured first, node ${process.version}`,
)
console.log(`raw ceiling: single-row INSERT commits/s on ${POOL} connections: ${ceiling.toFixed(0)}`)
console.log(`${''.padEnd(50)}  ${' per workflow '.padStart(44, '-').padEnd(76, '-')}`)
console.log(
  `${''.padEnd(20)}  done/s        p50        p99  statements  commits  rows ins / upd / del  CPU ms: node / server`,
)
console.log(row('DBOS Transact 5.3.0', dbos))
console.log(row('bac', bac))
console.log(`bac / DBOS throughput: ${(bac.rate / dbos.rate).toFixed(2)}`)
