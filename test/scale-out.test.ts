/**
 * Several worker processes on one PostgreSQL database, as `bac start` runs them: 3,000 items
 * shared by three workers, one of them killed with SIGKILL half-way — every item's effect
 * happens once, no finished step runs again, nothing is dead-lettered; a cron job each second
 * fires once per tick, not once per worker; a saga in flight on a killed worker finishes on
 * another.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRuntime, jsonLogger, type Runtime } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import { $ } from '@bac/sdk'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  announcePostgresSkip,
  freshPostgresUrl,
  POSTGRES_URL,
  tempFile,
} from '../packages/runtime/src/store/test-stores.fixture.ts'
import { startWorker, until, type Worker } from './crash-worker.ts'
import { businessFor } from './fixtures/scale-out/business.ts'

const ITEMS = 3000
/** Short leases, so a killed worker's runs are taken over within seconds. */
const LEASE_MS = '2000'

beforeAll(announcePostgresSkip)

describe.skipIf(!POSTGRES_URL)('three workers on one PostgreSQL', () => {
  const workers: Worker[] = []
  const clients: pg.Client[] = []
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
    for (const client of clients) await client.end()
  })

  async function setUp(extraEnv: Record<string, string> = {}) {
    const url = await freshPostgresUrl()
    const log = tempFile('steps.log')
    writeFileSync(log, '')
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    clients.push(db)
    await db.query('create table scale_effects (n int primary key)')
    await db.query('create table scale_ticks (at text not null, pid int not null)')
    const open = async (): Promise<Runtime> =>
      createRuntime({ business: businessFor(log), store: postgres({ url }), logger: jsonLogger({ level: 'silent' }) })
    const env = { SCALE_URL: url, LEASE_MS, ...extraEnv }
    const start = async (count: number) => {
      const started = Array.from({ length: count }, () => startWorker('scale-out', ['work', url, log], env))
      workers.push(...started)
      // Each says so once it has started claiming.
      await until(async () => started.every((w) => w.printed().includes('working')), 'the workers to start', 60_000)
      return started
    }
    return { url, log, db, open, start }
  }

  /** What each step body's executions were, and whose result the store kept. */
  const executions = (log: string) => {
    const runs = new Map<string, string[]>()
    for (const line of readFileSync(log, 'utf8').trim().split('\n').filter(Boolean)) {
      const [pid = '', step = '', n = ''] = line.split(' ')
      runs.set(`${step} ${n}`, [...(runs.get(`${step} ${n}`) ?? []), pid])
    }
    return runs
  }

  it('does every item once in effect, re-runs no finished step, and dead-letters nothing, though one worker is killed', async () => {
    const { db, log, open, start } = await setUp()
    const observer = await open()
    try {
      for (let n = 0; n < ITEMS; n++) await observer.send($.Item.added, { n })
      const [victim, ...survivors] = await start(3)
      const completed = async () => (await observer.runs.list({ status: 'completed', limit: ITEMS })).length
      await until(async () => (await completed()) >= ITEMS / 3, 'a third of the items', 120_000)
      victim?.child.kill('SIGKILL')
      await victim?.exited
      await until(async () => (await completed()) === ITEMS, 'every item', 120_000)
      for (const worker of survivors) worker.child.kill('SIGTERM')
      await Promise.all(survivors.map((w) => w.exited))

      // The effect is idempotent (keyed by item): every item has it, none is missing.
      const effects = await db.query('select count(*)::int as n from scale_effects')
      expect(effects.rows[0]).toEqual({ n: ITEMS })
      expect(await observer.dlq.list()).toEqual([])
      const runs = await observer.runs.list({ limit: ITEMS * 2 })
      expect(runs).toHaveLength(ITEMS)
      expect(runs.every((r) => r.status === 'completed')).toBe(true)
      // The killed worker held runs; the others took them over once their leases ran out.
      const takenOver = runs.filter((r) => r.attempt > 1)
      expect(takenOver.length).toBeGreaterThan(0)

      // Every worker did some; a body ran again only if the killed worker had not finished it.
      const ran = executions(log)
      const pids = new Set([...ran.values()].flat())
      expect(pids.size).toBe(3)
      const killed = String(victim?.child.pid)
      let rerun = 0
      for (const run of runs) {
        const n = (run.input as { n: number }).n
        for (const step of (await observer.runs.get(run.id))?.steps ?? []) {
          const kept = String((step.result as { pid: number }).pid)
          const bodies = ran.get(`${step.key} ${n}`) ?? []
          expect(bodies).toContain(kept)
          const others = bodies.filter((pid) => pid !== kept)
          // Any other execution was the killed worker's, cut short before its result was stored.
          expect(others.every((pid) => pid === killed)).toBe(true)
          expect(others.length).toBeLessThanOrEqual(1)
          rerun += others.length
        }
      }
      expect(rerun).toBeLessThanOrEqual(8) // at most what the killed worker had in flight
    } finally {
      await observer.stop()
    }
  }, 300_000)

  it('fires a cron job each second once per tick, not once per worker', async () => {
    const { db, start } = await setUp({ SCALE_CRON: '1' })
    const started = await start(3)
    const ticks = async () =>
      (await db.query('select at from scale_ticks order by at')).rows.map((r: { at: string }) => r.at)
    await until(async () => (await ticks()).length > 0, 'the first tick', 30_000)
    const [first] = await ticks()
    const firstAt = Date.parse(first as string)
    await until(
      async () => (await ticks()).some((at) => Date.parse(at) >= firstAt + 10_000),
      'ten more seconds',
      30_000,
    )
    for (const worker of started) worker.child.kill('SIGTERM')
    await Promise.all(started.map((w) => w.exited))
    const all = await ticks()
    const window = all.filter((at) => Date.parse(at) < firstAt + 10_000)
    expect(window).toHaveLength(10)
    expect(new Set(all).size).toBe(all.length)
    const fired = await db.query('select count(distinct pid)::int as workers from scale_ticks')
    expect(fired.rows[0].workers).toBeGreaterThan(1) // shared out, not one worker's alone
  }, 120_000)

  it('finishes a saga on another worker when the one running it is killed', async () => {
    const { log, open, start } = await setUp()
    const observer = await open()
    try {
      const started = await start(2)
      await observer.send($.Order.created, { n: 1 })
      const marker = `${log}.packing`
      await until(async () => existsSync(marker), 'a worker to start packing', 30_000)
      const packer = started.find((w) => String(w.child.pid) === readFileSync(marker, 'utf8'))
      expect(packer).toBeDefined()
      packer?.child.kill('SIGKILL')
      const [saga] = await (async () => {
        await until(
          async () => (await observer.runs.list({ kind: 'saga' }))[0]?.status === 'completed',
          'the saga to complete on the other worker',
          60_000,
        )
        return observer.runs.list({ kind: 'saga' })
      })()
      expect(saga?.status).toBe('completed')
      const ran = executions(log)
      const other = started.find((w) => w !== packer)
      expect(ran.get('reserve 1')).toEqual([String(packer?.child.pid)]) // finished: not run again
      expect(ran.get('pack 1')).toEqual([String(packer?.child.pid), String(other?.child.pid)]) // cut short: run again
      expect(ran.get('ship 1')).toEqual([String(other?.child.pid)])
      for (const worker of started) if (worker !== packer) worker.child.kill('SIGTERM')
    } finally {
      await observer.stop()
    }
  }, 120_000)
})
