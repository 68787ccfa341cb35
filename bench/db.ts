/**
 * The document db on SQLite: inserts per second and indexed-query latency at 100k documents,
 * each beside raw better-sqlite3 doing the same on a plain table with the same pragmas; then
 * streaming 1M documents, with the heap sampled to show memory stays flat.
 *
 *   pnpm --filter @bac/bench db [documents] [streamed]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, jsonLogger, realClock } from '@bac/runtime'
import { sqlite, sqlitePragmas } from '@bac/runtime/sqlite'
import { business } from '@bac/sdk'
import Database from 'better-sqlite3'

const DOCS = Number(process.argv[2] ?? 100_000)
const STREAMED = Number(process.argv[3] ?? 1_000_000)
const BATCH = 1000
const LOOKUPS = 2000
const dir = mkdtempSync(join(tmpdir(), 'bac-db-bench-'))
const product = (n: number) => ({
  sku: `sku-${n}`,
  name: `Product ${n}`,
  price: n % 500,
  tags: ['a', 'b'],
  stock: { on: n % 7 },
})

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
const ms = (n: number) => `${n.toFixed(3)} ms`

function raw() {
  const db = new Database(join(dir, 'raw.db'))
  sqlitePragmas(db, 'normal')
  db.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, type TEXT, data TEXT, sku TEXT)')
  const insert = db.prepare('INSERT INTO docs (id, type, data, sku) VALUES (?, ?, ?, ?)')
  const batch = db.transaction((from: number) => {
    for (let n = from; n < from + BATCH; n++) insert.run(`id-${n}`, 'Product', JSON.stringify(product(n)), `sku-${n}`)
  })
  let started = performance.now()
  for (let from = 0; from < DOCS; from += BATCH) batch(from)
  const insertsPerSecond = DOCS / ((performance.now() - started) / 1000)
  db.exec('CREATE INDEX docs_sku ON docs (sku)')
  const lookup = db.prepare('SELECT data FROM docs WHERE sku = ?')
  const took: number[] = []
  for (let i = 0; i < LOOKUPS; i++) {
    started = performance.now()
    JSON.parse((lookup.get(`sku-${(i * 7919) % DOCS}`) as { data: string }).data)
    took.push(performance.now() - started)
  }
  db.close()
  took.sort((a, b) => a - b)
  return { insertsPerSecond, p50: percentile(took, 0.5), p99: percentile(took, 0.99) }
}

async function bac() {
  const rt = await createRuntime({
    business: business('db-bench', () => {}),
    store: sqlite({ file: join(dir, 'bac.db'), synchronous: 'normal' }),
    clock: realClock,
    logger: jsonLogger({ level: 'error' }),
  })
  await rt.start()
  let started = performance.now()
  for (let from = 0; from < DOCS; from += BATCH) {
    await rt.db.batchCreate(
      'Product',
      Array.from({ length: BATCH }, (_, i) => product(from + i)),
    )
  }
  const insertsPerSecond = DOCS / ((performance.now() - started) / 1000)
  await rt.db.createIndex('Product', ['sku'])
  const took: number[] = []
  for (let i = 0; i < LOOKUPS; i++) {
    started = performance.now()
    await rt.db.findOne('Product', { sku: `sku-${(i * 7919) % DOCS}` })
    took.push(performance.now() - started)
  }
  took.sort((a, b) => a - b)
  return { rt, insertsPerSecond, p50: percentile(took, 0.5), p99: percentile(took, 0.99) }
}

/** Stream `count` documents; every 10k the live heap (after a GC) is sampled, to find its peak above the start. */
async function stream(rt: Awaited<ReturnType<typeof bac>>['rt'], count: number) {
  const have = await rt.db.count('Product')
  for (let from = have; from < count; from += BATCH) {
    await rt.db.batchCreate(
      'Product',
      Array.from({ length: BATCH }, (_, i) => product(from + i)),
    )
  }
  const live = () => {
    global.gc?.()
    return process.memoryUsage().heapUsed
  }
  const base = live()
  let peak = base
  let seen = 0
  const started = performance.now()
  for await (const _ of rt.db.stream('Product')) {
    if (++seen % 10_000 === 0) peak = Math.max(peak, live())
  }
  return { seen, seconds: (performance.now() - started) / 1000, peakMb: (peak - base) / 1e6 }
}

const baseline = raw()
const measured = await bac()
console.log(`SQLite (synchronous=normal), ${DOCS} documents, batches of ${BATCH}, node ${process.version}`)
console.log(
  `inserts/s        raw ${baseline.insertsPerSecond.toFixed(0).padStart(8)}   bac ${measured.insertsPerSecond.toFixed(0).padStart(8)}   ratio ${(measured.insertsPerSecond / baseline.insertsPerSecond).toFixed(2)}`,
)
console.log(
  `indexed lookup   raw p50 ${ms(baseline.p50)} p99 ${ms(baseline.p99)}   bac p50 ${ms(measured.p50)} p99 ${ms(measured.p99)}`,
)
const small = await stream(measured.rt, Math.min(100_000, STREAMED))
console.log(
  `stream ${small.seen.toLocaleString()} documents: ${(small.seen / small.seconds).toFixed(0)}/s, heap peak +${small.peakMb.toFixed(1)} MB`,
)
const large = await stream(measured.rt, STREAMED)
console.log(
  `stream ${large.seen.toLocaleString()} documents: ${(large.seen / large.seconds).toFixed(0)}/s, heap peak +${large.peakMb.toFixed(1)} MB`,
)
await measured.rt.stop()
