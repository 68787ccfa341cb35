/**
 * Two worker processes on one store — a SQLite file (where writers in different processes take
 * turns on the file's lock) and a PostgreSQL database — sharing work that tries to lose
 * updates: 300 `$inc` of one document, 75 orders racing for 5 units, 150 transfers between 5
 * accounts. Every count must come out exact, no stock below zero, no money made or lost.
 */
import { createRuntime, jsonLogger, type Runtime } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import { sqlite } from '@bac/runtime/sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  announcePostgresSkip,
  freshPostgresUrl,
  POSTGRES_URL,
  tempFile,
} from '../packages/runtime/src/store/test-stores.fixture.ts'
import { startWorker, until, type Worker } from './crash-worker.ts'
import { ACCOUNTS, businessFor, sendWork, setUp } from './fixtures/concurrency/business.ts'

const COUNT = 300
const RUNS = COUNT + COUNT / 4 + COUNT / 2

beforeAll(announcePostgresSkip)

const stores = [
  { name: 'sqlite', where: async () => tempFile('concurrency.db') },
  ...(POSTGRES_URL ? [{ name: 'postgres', where: () => freshPostgresUrl() }] : []),
]

describe.each(stores)('two worker processes on one $name store', ({ where }) => {
  const workers: Worker[] = []
  afterAll(() => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
  })

  it('lose no update, oversell nothing, and keep every balance', async () => {
    const location = await where()
    const open = (): Promise<Runtime> =>
      createRuntime({
        business: businessFor(''),
        store: location.startsWith('postgres')
          ? postgres({ url: location })
          : sqlite({ file: location, synchronous: 'normal' }),
        logger: jsonLogger({ level: 'silent' }),
      })
    const observer = await open()
    try {
      await setUp(observer)
      const started = [1, 2].map(() => startWorker('concurrency', ['work', location, '']))
      workers.push(...started)
      await until(async () => started.every((w) => w.printed().includes('working')), 'the workers to start')
      // Sent while both work, so both claim from the start.
      await sendWork(observer, COUNT)
      const done = async () => (await observer.runs.list({ status: 'completed', limit: RUNS })).length
      await until(async () => (await done()) === RUNS, `all ${RUNS} runs to complete`, 120_000)
      for (const worker of started) worker.child.kill('SIGTERM')
      const codes = await Promise.all(started.map((w) => w.exited))
      expect(codes, (await Promise.all(started.map((w) => w.output))).join('\n')).toEqual([0, 0])

      const counter = await observer.db.get<{ by: Record<string, number> }>('Counter', 'c')
      expect(counter).toMatchObject({ n: COUNT, $version: COUNT + 1 })
      expect(await observer.db.count('Outcome', { confirmed: true })).toBe(5)
      expect(await observer.db.count('Outcome', { confirmed: false })).toBe(COUNT / 4 - 5)
      expect(await observer.db.get('Stock', 'lamp')).toMatchObject({ available: 0 })
      const accounts = await observer.db.find<{ balance: number }>('Account')
      expect(accounts.reduce((sum, a) => sum + a.balance, 0)).toBe(100 * ACCOUNTS.length)
      expect(accounts.every((a) => a.balance >= 0)).toBe(true)
      expect((await observer.db.count('Transfer')) + (await observer.db.count('Declined'))).toBe(COUNT / 2)
      // Both processes did the work: it was shared, so the races were real.
      expect(Object.keys(counter?.by ?? {})).toHaveLength(2)
      expect(Object.values(counter?.by ?? {}).reduce((sum, n) => sum + n, 0)).toBe(COUNT)
      expect(await observer.dlq.list()).toEqual([])
    } finally {
      await observer.stop()
    }
  }, 180_000)
})
