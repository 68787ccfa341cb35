/**
 * Durable throughput on SQLite, end to end: send → persisted → handler with one step → run
 * completed. Printed beside the raw ceiling measured in the same run — single-row INSERT
 * commits per second on a file with the same pragmas — and the ratio. Then latency from send
 * to handler completion at half the measured peak rate (p50, p99).
 *
 *   pnpm --filter @bac/bench throughput [events] [synchronous: full|normal]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, jsonLogger } from '@bac/runtime'
import { sqlite, sqlitePragmas } from '@bac/runtime/sqlite'
import { $, business, on, step } from '@bac/sdk'
import Database from 'better-sqlite3'

const EVENTS = Number(process.argv[2] ?? 3000)
const SYNCHRONOUS = (process.argv[3] ?? 'full') as 'full' | 'normal'
const dir = mkdtempSync(join(tmpdir(), 'bac-bench-'))

/** Single-row INSERT commits per second, each its own transaction. */
function rawCeiling(seconds = 2): number {
  const db = new Database(join(dir, 'raw.db'))
  sqlitePragmas(db, SYNCHRONOUS)
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO t (payload) VALUES (?)')
  const payload = JSON.stringify({ n: 0, note: 'x'.repeat(40) })
  const started = performance.now()
  let commits = 0
  while (performance.now() - started < seconds * 1000) {
    insert.run(payload)
    commits++
  }
  const rate = commits / ((performance.now() - started) / 1000)
  db.close()
  return rate
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

async function bacRuntime(file: string, onDone: (n: number) => void) {
  const definition = business('bench', () => {
    on($.Bench.event, async (payload: { n: number }) => {
      await step('work', () => payload.n * 2)
      onDone(payload.n)
    })
  })
  const rt = await createRuntime({
    business: definition,
    store: sqlite({ file, synchronous: SYNCHRONOUS }),
    concurrency: 32,
    logger: jsonLogger({ level: 'error' }),
  })
  await rt.start()
  return rt
}

/** Events per second end to end, sending with up to `inFlight` sends outstanding. */
async function peak(): Promise<number> {
  let done = 0
  let resolveAll: () => void = () => {}
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve
  })
  const rt = await bacRuntime(join(dir, 'peak.db'), () => {
    if (++done === EVENTS) resolveAll()
  })
  const started = performance.now()
  const inFlight = 64
  let next = 0
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < EVENTS) await rt.send('Bench.event', { n: next++ })
    }),
  )
  await all
  const rate = EVENTS / ((performance.now() - started) / 1000)
  await rt.stop()
  return rate
}

/** Send → handler completion latency at a fixed rate. */
async function latency(rate: number, count: number): Promise<{ p50: number; p99: number }> {
  const sentAt = new Map<number, number>()
  const took: number[] = []
  let resolveAll: () => void = () => {}
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve
  })
  const rt = await bacRuntime(join(dir, 'latency.db'), (n) => {
    took.push(performance.now() - (sentAt.get(n) ?? 0))
    if (took.length === count) resolveAll()
  })
  const interval = 1000 / rate
  const started = performance.now()
  const sends: Promise<unknown>[] = []
  for (let n = 0; n < count; n++) {
    const due = started + n * interval
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    sentAt.set(n, performance.now())
    sends.push(rt.send('Bench.event', { n }))
  }
  await Promise.all(sends)
  await all
  await rt.stop()
  took.sort((a, b) => a - b)
  return { p50: percentile(took, 0.5), p99: percentile(took, 0.99) }
}

const ceiling = rawCeiling()
const events = await peak()
const half = events / 2
const { p50, p99 } = await latency(half, Math.min(EVENTS, Math.round(half * 5)))
const fmt = (n: number) => n.toFixed(0).padStart(8)
console.log(`SQLite, synchronous=${SYNCHRONOUS}, ${EVENTS} events, node ${process.version}`)
console.log(`raw ceiling (1-row INSERT commits/s)   ${fmt(ceiling)}`)
console.log(`bac end to end (events/s)              ${fmt(events)}`)
console.log(`ratio                                  ${(events / ceiling).toFixed(3).padStart(8)}`)
console.log(`latency at ${half.toFixed(0)} events/s: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`)
