/**
 * Scale-out on PostgreSQL: 1, 2 and 4 worker processes (scale-out-worker.ts) on one database,
 * the work shared by `FOR UPDATE SKIP LOCKED` claims and leases, new work announced by
 * LISTEN/NOTIFY. This process sends E events (a runtime that is created but not started sends
 * without executing anything), up to 50 sends in flight, each fanning out to one run of a
 * three-step handler. Throughput is events per second from the first send to the last run's
 * completion committed (the workers report it with the time of the commit); latency is
 * send → completion committed, at half the measured peak rate. Each row is set beside the
 * 1-worker figure measured in the same run.
 *
 * Afterwards each row is checked: every run completed exactly once, none claimed twice, all
 * steps stored, the workers' warnings and errors listed. And what an event cost: transactions
 * committed (PostgreSQL's statistics, in a benchmark database of its own so only this run
 * counts), the workers' claim transactions (and those that found nothing: a wake-up another
 * worker had answered) and their other store calls, and CPU time of the workers, the sender and
 * the PostgreSQL server (when it runs on this machine).
 *
 *   pnpm --filter @bac/bench scale-out [events] [concurrency per worker] [latency rate, events/s]
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createRuntime, jsonLogger, type Runtime } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import {
  freshDatabase,
  freshSchema,
  now,
  percentile,
  processCpu,
  type Schema,
  serverCpu,
  sql,
} from './postgres-bench.ts'
import type { WorkerMessage } from './scale-out-worker.ts'
import { threeSteps } from './three-steps.ts'

const EVENTS = Number(process.argv[2] ?? 2000)
const CONCURRENCY = Number(process.argv[3] ?? 16)
/** Send rate of the latency measurement (default: half of each row's peak). */
const LATENCY_RATE = process.argv[4] === undefined ? undefined : Number(process.argv[4])
const POOL = 10
const SENDS_IN_FLIGHT = 50
const WORKER_COUNTS = [1, 2, 4]
/** No completion for this long while some are missing: the rest are stuck. */
const STALL_MS = 30_000
const WORKER = fileURLToPath(new URL('./scale-out-worker.ts', import.meta.url))

// Never leave workers or the database behind: on exit, on Ctrl-C, on an error.
const children = new Set<ChildProcess>()
const killAll = () => {
  for (const child of children) child.kill('SIGKILL')
}
let dropDatabase: (() => Promise<void>) | undefined
/** The sender of the row being measured (its pool must close before the database is dropped). */
let activeSender: Runtime | undefined
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    killAll()
    await activeSender?.stop().catch(() => {})
    await dropDatabase?.()
    process.exit(130)
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface WorkerStats {
  bodies: number
  completions: number
  crashed: number
  cpu: number
  claims: number
  empty: number
  /** The workers' calls of each store method, added up. */
  calls: Record<string, number>
}

interface WorkerGroup {
  /** Event number → when its run's completion committed (the first, if reported twice). */
  readonly completed: Map<number, number>
  /** Completions reported for a run already reported completed. */
  readonly duplicates: number[]
  /** The workers' warning and error lines (JSON). */
  readonly logs: string[]
  /** Until `count` of the events `from..from+count-1` completed, or nothing completes for STALL_MS. */
  until(from: number, count: number): Promise<number>
  stop(): Promise<WorkerStats>
}

async function startWorkers(count: number, url: string): Promise<WorkerGroup> {
  const completed = new Map<number, number>()
  const duplicates: number[] = []
  const logs: string[] = []
  const stats: WorkerStats = { bodies: 0, completions: 0, crashed: 0, cpu: 0, claims: 0, empty: 0, calls: {} }
  let lastProgress = now()
  const procs = Array.from({ length: count }, () => {
    const child = fork(WORKER, [url, String(CONCURRENCY), String(POOL)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    })
    children.add(child)
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => logs.push(line))
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'completed') {
        lastProgress = now()
        for (const [n, at] of message.runs) {
          if (completed.has(n)) duplicates.push(n)
          else completed.set(n, at)
        }
      } else if (message.type === 'stopped') {
        stats.bodies += message.bodies
        stats.completions += message.completions
        stats.cpu += message.cpu
        stats.claims += message.claims
        stats.empty += message.empty
        for (const [method, n] of Object.entries(message.calls)) stats.calls[method] = (stats.calls[method] ?? 0) + n
      }
    })
    child.on('exit', (code) => {
      children.delete(child)
      if (code !== 0) stats.crashed++
    })
    return child
  })
  await Promise.all(
    procs.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.on('message', (message: WorkerMessage) => {
            if (message.type === 'ready') resolve()
          })
          child.on('exit', (code) => reject(new Error(`a worker exited with ${code} before it was ready`)))
        }),
    ),
  )
  return {
    completed,
    duplicates,
    logs,
    async until(from, wanted) {
      lastProgress = now()
      for (;;) {
        let done = 0
        for (let n = from; n < from + wanted; n++) if (completed.has(n)) done++
        if (done === wanted || now() - lastProgress > STALL_MS) return done
        await sleep(10)
      }
    },
    async stop() {
      await Promise.all(
        procs.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || !child.connected) return resolve()
              const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
              child.on('exit', () => {
                clearTimeout(timer)
                resolve()
              })
              child.send({ type: 'stop' })
            }),
        ),
      )
      return stats
    },
  }
}

interface Row {
  readonly workers: number
  /** Events sent in all (peak and latency). */
  readonly events: number
  readonly rate: number
  /** Events per second the single sender got out (if near `rate`, the sender was the limit). */
  readonly sendRate: number
  readonly p50: number
  readonly p99: number
  readonly commitsPerEvent: number
  /** Claim transactions per event, and those of them that found nothing. */
  readonly claims: number
  readonly emptyClaims: number
  /** The workers' store calls per event, by method. */
  readonly calls: Readonly<Record<string, number>>
  /** CPU milliseconds per event: the workers together, the sender, the PostgreSQL server. */
  readonly cpu: { readonly workers: number; readonly sender: number; readonly server: number | undefined }
  readonly checks: string[]
}

async function measure(workers: number, databaseUrl: string): Promise<Row> {
  const schema: Schema = await freshSchema(databaseUrl)
  // Created first: it brings the schema up to date before any worker opens it.
  const sender: Runtime = await createRuntime({
    business: threeSteps(),
    store: postgres({ url: schema.url, max: POOL }),
    logger: jsonLogger({ level: 'warn' }),
  })
  activeSender = sender
  const group = await startWorkers(workers, schema.url)
  const checks: string[] = []
  const serverBefore = await serverCpu(databaseUrl)
  const senderBefore = processCpu()
  try {
    const sentAt = new Map<number, number>()
    // Peak: as fast as one sender goes, 50 sends in flight.
    let next = 0
    const first = now()
    await Promise.all(
      Array.from({ length: SENDS_IN_FLIGHT }, async () => {
        while (next < EVENTS) {
          const n = next++
          sentAt.set(n, now())
          await sender.send('Bench.event', { n })
        }
      }),
    )
    const sendRate = EVENTS / ((now() - first) / 1000)
    const peakDone = await group.until(0, EVENTS)
    if (peakDone < EVENTS) checks.push(`STUCK: ${EVENTS - peakDone} of ${EVENTS} runs not completed`)
    let last = first
    for (let n = 0; n < EVENTS; n++) last = Math.max(last, group.completed.get(n) ?? first)
    const rate = peakDone / ((last - first) / 1000)

    // Latency at half that rate (or the rate given).
    const half = LATENCY_RATE ?? rate / 2
    const count = Math.min(EVENTS, Math.round(half * 5))
    const interval = 1000 / half
    const started = performance.now()
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < count; i++) {
      const wait = started + i * interval - performance.now()
      if (wait > 0) await sleep(wait)
      const n = EVENTS + i
      sentAt.set(n, now())
      sends.push(sender.send('Bench.event', { n }))
    }
    await Promise.all(sends)
    const latencyDone = await group.until(EVENTS, count)
    if (latencyDone < count) checks.push(`STUCK: ${count - latencyDone} of ${count} runs not completed`)
    const took: number[] = []
    for (let n = EVENTS; n < EVENTS + count; n++) {
      const at = group.completed.get(n)
      if (at !== undefined) took.push(at - (sentAt.get(n) ?? at))
    }
    took.sort((a, b) => a - b)

    const total = EVENTS + count
    const senderCpu = processCpu() - senderBefore
    const stats = await group.stop()
    const serverAfter = await serverCpu(databaseUrl)
    const runs = await sql<{ status: string; n: string; reclaimed: string }>(
      schema.url,
      `select status, count(*) as n, count(*) filter (where attempt > 1) as reclaimed from bac_runs group by status`,
    )
    const [{ steps } = { steps: '0' }] = await sql<{ steps: string }>(
      schema.url,
      'select count(*) as steps from bac_steps',
    )
    const completedRuns = Number(runs.find((r) => r.status === 'completed')?.n ?? 0)
    const reclaimed = runs.reduce((sum, r) => sum + Number(r.reclaimed), 0)
    if (completedRuns !== total) checks.push(`runs: ${runs.map((r) => `${r.n} ${r.status}`).join(', ')}`)
    if (reclaimed > 0) checks.push(`${reclaimed} runs claimed more than once (attempt > 1)`)
    if (Number(steps) !== 3 * total) checks.push(`${steps} steps stored for ${total} runs (expected ${3 * total})`)
    if (group.duplicates.length > 0) checks.push(`${group.duplicates.length} runs reported completed twice`)
    if (stats.bodies !== total) checks.push(`handler bodies ran ${stats.bodies} times for ${total} runs`)
    if (stats.crashed > 0) checks.push(`${stats.crashed} workers exited abnormally`)
    if (group.logs.length > 0) {
      const messages = new Map<string, number>()
      for (const line of group.logs) {
        let message = line
        try {
          const parsed = JSON.parse(line) as { level?: string; message?: string; error?: string }
          message = `${parsed.level ?? '?'}: ${parsed.message ?? line}${parsed.error ? ` (${parsed.error})` : ''}`
        } catch {}
        messages.set(message, (messages.get(message) ?? 0) + 1)
      }
      for (const [message, times] of messages) checks.push(`${times}x worker log: ${message.slice(0, 160)}`)
    }
    return {
      workers,
      events: total,
      rate,
      sendRate,
      p50: percentile(took, 0.5),
      p99: percentile(took, 0.99),
      commitsPerEvent: 0,
      claims: stats.claims / total,
      emptyClaims: stats.empty / total,
      calls: Object.fromEntries(Object.entries(stats.calls).map(([method, n]) => [method, n / total])),
      cpu: {
        workers: (stats.cpu * 1000) / total,
        sender: (senderCpu * 1000) / total,
        server:
          serverBefore === undefined || serverAfter === undefined
            ? undefined
            : ((serverAfter - serverBefore) * 1000) / total,
      },
      checks,
    }
  } finally {
    await group.stop()
    await sender.stop()
    await schema.drop()
  }
}

/** Transactions committed in the database so far (read once every connection has closed). */
async function commits(url: string): Promise<number> {
  await sleep(300)
  const [row] = await sql<{ n: string }>(
    url,
    'select xact_commit as n from pg_stat_database where datname = current_database()',
  )
  return Number(row?.n ?? 0)
}

const database = await freshDatabase()
dropDatabase = () => database.drop().catch(() => {})
const rows: Row[] = []
try {
  for (const workers of WORKER_COUNTS) {
    const before = await commits(database.url)
    const row = await measure(workers, database.url)
    rows.push({ ...row, commitsPerEvent: ((await commits(database.url)) - before) / row.events })
  }
} finally {
  killAll()
  await database.drop()
}

const base = rows[0]
const ratio = (value: number, of: number | undefined) => `(${(value / (of ?? value)).toFixed(2)})`.padStart(7)
const cell = (text: string, width: number) => text.padStart(width)
console.log(
  `bac on PostgreSQL, ${EVENTS} events of a 3-step handler, ${SENDS_IN_FLIGHT} sends in flight from one sender, ` +
    `per worker: concurrency ${CONCURRENCY}, pool ${POOL}; node ${process.version}`,
)
console.log(
  `(ratios to 1 worker in brackets; latency at ${LATENCY_RATE === undefined ? "half of each row's peak rate" : `${LATENCY_RATE} events/s`})`,
)
console.log(
  'workers   events/s           p50               p99      sender/s   commits/event   claims/event (empty)   CPU ms/event: workers / sender / server',
)
for (const row of rows) {
  console.log(
    `${cell(String(row.workers), 7)}   ${cell(row.rate.toFixed(0), 5)} ${ratio(row.rate, base?.rate)}` +
      `   ${cell(row.p50.toFixed(1), 5)} ms ${ratio(row.p50, base?.p50)}   ${cell(row.p99.toFixed(1), 5)} ms ${ratio(row.p99, base?.p99)}` +
      `   ${cell(row.sendRate.toFixed(0), 8)}   ${cell(row.commitsPerEvent.toFixed(1), 13)}` +
      `   ${cell(`${row.claims.toFixed(2)} (${row.emptyClaims.toFixed(2)})`, 20)}` +
      `   ${cell(row.cpu.workers.toFixed(2), 27)} / ${row.cpu.sender.toFixed(2)} / ${row.cpu.server?.toFixed(2) ?? 'n/a'}`,
  )
}
// The methods called at least once per 200 events by some row (not start-up and timers).
const methods = [
  ...new Set(rows.flatMap((row) => Object.keys(row.calls).filter((m) => (row.calls[m] ?? 0) >= 0.005))),
].sort()
console.log(
  `the workers' store calls per event, by method (${rows.map((row) => `${row.workers}`).join(' / ')} workers):`,
)
for (const m of methods)
  console.log(`  ${m.padEnd(18)} ${rows.map((row) => (row.calls[m] ?? 0).toFixed(2)).join(' / ')}`)
for (const row of rows) {
  console.log(
    `${row.workers} worker(s): ${row.checks.length === 0 ? 'every run completed exactly once; no warnings' : ''}`,
  )
  for (const check of row.checks) console.log(`  ${check}`)
}
