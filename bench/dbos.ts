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
 * default too), each in a fresh schema of the same database, each with a warm-up of 10% first.
 * Also printed: transactions and rows written per workflow, from PostgreSQL's statistics.
 *
 *   pnpm --filter @bac/bench dbos [workflows]
 */
import type { RunRecord } from '@bac/runtime'
import { createRuntime, jsonLogger } from '@bac/runtime'
import { $, business, on, step } from '@bac/sdk'
import { DBOS } from '@dbos-inc/dbos-sdk'
import {
  costPer,
  type DatabaseCost,
  databaseCost,
  freshSchema,
  inSchema,
  now,
  observedStore,
  percentile,
  SERVER,
  sql,
} from './postgres-bench.ts'

const WORKFLOWS = Number(process.argv[2] ?? 2000)
const WARMUP = Math.max(50, Math.round(WORKFLOWS / 10))
const IN_FLIGHT = 50
const POOL = 10

interface Result {
  readonly rate: number
  readonly p50: number
  readonly p99: number
  readonly cost: DatabaseCost
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

/**
 * PostgreSQL publishes a busy backend's statistics up to 10 s after it goes idle, and at once when
 * it disconnects: the counters are read after an idle wait before, and after the pool is closed.
 */
const idleForStats = () => new Promise((resolve) => setTimeout(resolve, 11_000))
const afterDisconnect = () => new Promise((resolve) => setTimeout(resolve, 300))

async function measureDbos(): Promise<Result> {
  // DBOS creates its schema and system tables at launch.
  const schema = `dbos_bench_${Math.random().toString(16).slice(2, 10)}`
  async function threeSteps(n: number): Promise<number> {
    const a = await DBOS.runStep(async () => n * 2, { name: 'a' })
    const b = await DBOS.runStep(async () => a + 1, { name: 'b' })
    return DBOS.runStep(async () => b * 3, { name: 'c' })
  }
  const workflow = DBOS.registerWorkflow(threeSteps, { name: 'threeSteps' })
  DBOS.setConfig({
    name: 'bac-bench',
    applicationVersion: '0.1.0',
    systemDatabaseUrl: SERVER,
    systemDatabaseSchemaName: schema,
    systemDatabasePoolSize: POOL,
    logLevel: 'error',
  })
  try {
    await DBOS.launch()
    const one = async (n: number) => {
      const handle = await DBOS.startWorkflow(workflow)(n)
      if ((await handle.getResult()) !== (n * 2 + 1) * 3) throw new Error(`workflow ${n}: wrong result`)
    }
    await closedLoop(WARMUP, one)
    await idleForStats()
    const before = await databaseCost(SERVER, schema)
    const result = await closedLoop(WORKFLOWS, one, WARMUP)
    await DBOS.shutdown()
    await afterDisconnect()
    return { ...result, cost: costPer(before, await databaseCost(SERVER, schema), WORKFLOWS) }
  } finally {
    await DBOS.shutdown()
    await sql(SERVER, `drop schema if exists ${schema} cascade`)
  }
}

async function measureBac(): Promise<Result> {
  const schema = await freshSchema()
  const waiting = new Map<number, () => void>()
  const onCompleted = (run: RunRecord) => {
    const n = (run.input as { n: number }).n
    waiting.get(n)?.()
    waiting.delete(n)
  }
  const rt = await createRuntime({
    business: business('bench', () => {
      on($.Bench.event, async (payload: { n: number }) => {
        const a = await step('a', () => payload.n * 2)
        const b = await step('b', () => a + 1)
        await step('c', () => b * 3)
      })
    }),
    store: observedStore({ url: schema.url, max: POOL }, onCompleted),
    concurrency: IN_FLIGHT,
    logger: jsonLogger({ level: 'error' }),
  })
  try {
    await rt.start()
    const one = async (n: number) => {
      const done = new Promise<void>((resolve) => waiting.set(n, resolve))
      await rt.send('Bench.event', { n })
      await done
    }
    await closedLoop(WARMUP, one)
    await idleForStats()
    const before = await databaseCost(SERVER, schema.name)
    const result = await closedLoop(WORKFLOWS, one, WARMUP)
    await rt.stop()
    await afterDisconnect()
    return { ...result, cost: costPer(before, await databaseCost(SERVER, schema.name), WORKFLOWS) }
  } finally {
    await rt.stop()
    await schema.drop()
  }
}

const bac = await measureBac()
const dbos = await measureDbos()

const pad = (s: string, n: number) => s.padStart(n)
const row = (name: string, r: Result) =>
  `${name.padEnd(22)}${pad(r.rate.toFixed(0), 8)}   ${pad(r.p50.toFixed(1), 6)} ms ${pad(r.p99.toFixed(1), 7)} ms` +
  `   ${pad(r.cost.commits.toFixed(1), 6)}   ${pad(r.cost.inserted.toFixed(1), 5)} / ${r.cost.updated.toFixed(1)} / ${r.cost.deleted.toFixed(1)}`
console.log(
  `3-step workflows on PostgreSQL (${inSchema(SERVER, '…').replace(/\?.*/, '')}), ${WORKFLOWS} (+${WARMUP} warm-up), ` +
    `${IN_FLIGHT} in flight, pools of ${POOL}, node ${process.version}`,
)
console.log(`${''.padEnd(22)}   per s      p50         p99   commits   rows ins / upd / del (per workflow)`)
console.log(row('DBOS Transact 5.3.0', dbos))
console.log(row('bac', bac))
console.log(`bac / DBOS throughput  ${(bac.rate / dbos.rate).toFixed(2).padStart(8)}`)
