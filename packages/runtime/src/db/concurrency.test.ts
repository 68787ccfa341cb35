/**
 * Business data under concurrency: two runtimes (as two workers) on one store — one SQLite file,
 * one PostgreSQL database — each running 16 runs at once, trying their hardest to lose an update:
 * hundreds of `$inc` on one document, reservations racing for the last units, optimistic
 * read-modify-write loops, and money moving between accounts in transactions (some of which
 * throw). Real clocks; every assertion is exact. (Worker processes on one SQLite file are in
 * test/concurrency.test.ts: in one process, SQLite's writes take turns anyway.)
 */
import { $, business, db, isConflictError, on } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { jsonLogger } from '../json-logger.ts'
import { createRuntime, type Runtime } from '../runtime.ts'
import { announcePostgresSkip, testStores } from '../store/test-stores.fixture.ts'
import { transferOrDecline } from './bank.fixture.ts'

beforeAll(announcePostgresSkip)

const ACCOUNTS = ['a', 'b', 'c', 'd', 'e']

const shop = business('concurrency', () => {
  on($.Counter.bumped, async () => {
    await db.update('Counter', 'c', { $inc: { n: 1 }, $push: { log: 1 } })
  })
  on($.Stock.ordered, async ({ order }: { order: number }) => {
    const taken = await db.update('Stock', 'lamp', { $inc: { available: -1 } }, { where: { 'available:gte': 1 } })
    await db.create('Outcome', { order, confirmed: taken !== null })
  })
  on($.Tally.raised, async () => {
    // Optimistic: read, compute, write only if no one wrote since — else read again.
    for (;;) {
      const tally = await db.get<{ n: number }>('Tally', 't')
      try {
        await db.update('Tally', 't', { n: (tally?.n ?? 0) + 1 }, { ifVersion: tally?.$version ?? 0 })
        return
      } catch (error) {
        if (!isConflictError(error)) throw error
        await db.create('Conflict', {})
      }
    }
  })
  on($.Money.moved, transferOrDecline)
})

describe.each(testStores)('two workers on one $name store', ({ name, shared }) => {
  let workers: Runtime[] = []
  const start = async () => {
    const open = await shared()
    workers = await Promise.all(
      [1, 2].map(() =>
        createRuntime({ business: shop, store: open(), concurrency: 16, logger: jsonLogger({ level: 'silent' }) }),
      ),
    )
    for (const worker of workers) await worker.start()
    return workers as [Runtime, Runtime]
  }
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    workers = []
  })

  /** Send `count` events, alternating between the workers, all at once; wait until every run has finished. */
  const race = async (event: Parameters<Runtime['send']>[0], count: number, payload: (i: number) => unknown) => {
    const [a, b] = workers as [Runtime, Runtime]
    await Promise.all(Array.from({ length: count }, (_, i) => (i % 2 ? a : b).send(event, payload(i))))
    const deadline = Date.now() + 60_000
    for (;;) {
      const runs = await a.runs.list({ kind: 'handler', limit: 10_000 })
      const open = runs.filter((r) => !['completed', 'failed'].includes(r.status))
      if (runs.length >= count && open.length === 0) return runs
      if (Date.now() > deadline) throw new Error(`${open.length} of ${runs.length} runs unfinished`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  it('loses no $inc: 300 runs bump one document by one each', async () => {
    const [a] = await start()
    await a.db.create('Counter', { $id: 'c', n: 0, log: [] })
    const runs = await race($.Counter.bumped, 300, () => ({}))
    expect(runs.every((r) => r.status === 'completed')).toBe(true)
    const counter = await a.db.get<{ n: number; log: number[] }>('Counter', 'c')
    expect(counter?.n).toBe(300)
    expect(counter?.log).toHaveLength(300)
    expect(counter?.$version).toBe(301)
  })

  it('confirms exactly as many racing reservations as there is stock, never going below zero', async () => {
    const [a] = await start()
    await a.db.create('Stock', { $id: 'lamp', available: 5 })
    await race($.Stock.ordered, 40, (order) => ({ order }))
    expect(await a.db.count('Outcome', { confirmed: true })).toBe(5)
    expect(await a.db.count('Outcome', { confirmed: false })).toBe(35)
    expect(await a.db.get('Stock', 'lamp')).toMatchObject({ available: 0, $version: 6 })
  })

  it('keeps optimistic read-modify-write loops exact: a stale ifVersion is refused, never written', async () => {
    const [a] = await start()
    await a.db.create('Tally', { $id: 't', n: 0 })
    await race($.Tally.raised, 100, () => ({}))
    // Each refusal (a Conflict document) was a write that would have lost an update; none got through.
    const tally = await a.db.get<{ n: number }>('Tally', 't')
    expect(tally?.n).toBe(100)
    expect(tally?.$version).toBe(101)
  })

  it('moves money in transactions without creating or losing any, nor overdrawing, though some throw', async () => {
    const [a] = await start()
    for (const id of ACCOUNTS) await a.db.create('Account', { $id: id, balance: 100 })
    // Transfers in both directions between the same accounts, 32 at a time.
    const transfer = (i: number) => ({
      from: ACCOUNTS[i % 5],
      to: ACCOUNTS[(i * 3 + 1) % 5],
      // The ones that throw after their writes move 1, so none of them may show in the ledger.
      amount: i % 10 === 0 ? 1 : 10 + ((i * 7) % 60),
      fail: i % 10 === 0,
    })
    const runs = await race($.Money.moved, 200, transfer)
    expect(runs.every((r) => r.status === 'completed')).toBe(true)
    const accounts = await a.db.find<{ balance: number }>('Account')
    expect(accounts.reduce((sum, account) => sum + account.balance, 0)).toBe(500)
    expect(accounts.every((account) => account.balance >= 0)).toBe(true)
    const transfers = await a.db.find<{ from: string; to: string; amount: number }>('Transfer')
    const declined = await a.db.count('Declined')
    expect(transfers.length + declined).toBe(200)
    expect(await a.db.count('Transfer', { amount: 1 })).toBe(0)
    expect(await a.db.count('Declined', { reason: 'changed its mind' })).toBeGreaterThan(0)
    // The ledger explains every balance: what a transaction wrote, it wrote whole.
    for (const account of accounts) {
      const flow = transfers.reduce(
        (sum, t) => sum + (t.to === account.$id ? t.amount : 0) - (t.from === account.$id ? t.amount : 0),
        0,
      )
      expect(account.balance).toBe(100 + flow)
    }
    // Every committed transfer's events were published with it, no others.
    expect(await a.store.eventsAfter(['Transfer.created'], 0, 1000)).toHaveLength(transfers.length)
  })

  it.skipIf(name !== 'postgres')('retries a transaction PostgreSQL aborts as a deadlock, and both commit', async () => {
    const [a, b] = await start()
    await a.db.create('Account', { $id: 'x', balance: 0 })
    await a.db.create('Account', { $id: 'y', balance: 0 })
    // Each locks its first account, then waits until the other has too: a lock cycle, for sure.
    let arrived = 0
    let release: () => void = () => {}
    const bothLocked = new Promise<void>((resolve) => {
      release = resolve
    })
    const attempts = { a: 0, b: 0 }
    const cross = (rt: Runtime, who: 'a' | 'b', first: string, second: string) =>
      rt.db.transaction(async (tx) => {
        attempts[who]++
        await tx.update('Account', first, { $inc: { balance: 1 } })
        if (++arrived === 2) release()
        await bothLocked
        await tx.update('Account', second, { $inc: { balance: 1 } })
        return who
      })
    expect(await Promise.all([cross(a, 'a', 'x', 'y'), cross(b, 'b', 'y', 'x')])).toEqual(['a', 'b'])
    expect(attempts.a + attempts.b).toBe(3)
    expect((await a.db.find('Account', {}, { sort: { $id: 1 } })).map((account) => account.balance)).toEqual([2, 2])
  })
  it.skipIf(name !== 'postgres')(
    'retries a serializable transaction that PostgreSQL fails as a serialization failure',
    async () => {
      const [a, b] = await start()
      await a.db.create('Shift', { $id: 'x', onCall: true })
      await a.db.create('Shift', { $id: 'y', onCall: true })
      // Write skew: each reads both, then takes itself off call. Serializable lets only one
      // commit as it read; the other is rolled back and run again, and then sees the first.
      let arrived = 0
      let release: () => void = () => {}
      const bothRead = new Promise<void>((resolve) => {
        release = resolve
      })
      let attempts = 0
      const offCall = (rt: Runtime, me: string) =>
        rt.db.transaction(
          async (tx) => {
            attempts++
            const onCall = await tx.count('Shift', { onCall: true })
            if (++arrived === 2) release()
            await bothRead
            if (onCall < 2) return `${me} stays`
            await tx.update('Shift', me, { onCall: false })
            return `${me} off`
          },
          { isolation: 'serializable' },
        )
      expect((await Promise.all([offCall(a, 'x'), offCall(b, 'y')])).sort()).toEqual(
        expect.arrayContaining([expect.stringMatching(/off$/), expect.stringMatching(/stays$/)]),
      )
      expect(attempts).toBe(3)
      expect(await a.db.count('Shift', { onCall: true })).toBe(1)
    },
  )
})
