/** The contract every `Store` keeps, run against SQLite and (with BAC_TEST_POSTGRES_URL) PostgreSQL. */
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NEVER, patternsFor } from './kysely-store.ts'
import { postgres } from './postgres/postgres-store.ts'
import { sqlite } from './sqlite/sqlite-store.ts'
import type { NewRun, Store, Wait } from './store.ts'
import { announcePostgresSkip, freshPostgresUrl, POSTGRES_URL, tempFile, testStores } from './test-stores.fixture.ts'

beforeAll(announcePostgresSkip)

const T0 = 1_800_000_000_000
let counter = 0
const run = (over: Partial<NewRun> = {}): NewRun => ({
  id: `run-${++counter}`,
  kind: 'handler',
  name: 'h',
  input: { n: counter },
  availableAt: T0,
  ...over,
})

describe.each(testStores)('the $name store', ({ make, makeWithSql }) => {
  let store: Store
  const open = async () => {
    store = await make()
    await store.open()
    return store
  }
  afterEach(async () => {
    await store?.close()
  })

  it('publishes an event with its runs in one step, and only once', async () => {
    await open()
    const at = new Date(T0)
    const first = await store.publish(
      { id: 'e1', name: 'Order.created', payload: { at, total: 10, note: undefined }, createdAt: T0 },
      [run({ id: 'r1', idempotencyKey: 'event:e1' }), run({ id: 'r2', name: 'h2', idempotencyKey: 'event:e1' })],
    )
    expect(first.duplicate).toBe(false)
    expect(first.event).toMatchObject({ id: 'e1', name: 'Order.created', seq: expect.any(Number) })
    expect((first.event.payload as { at: Date }).at).toEqual(at)
    expect((first.event.payload as { at: Date }).at).toBeInstanceOf(Date)
    const again = await store.publish({ id: 'e1', name: 'Order.created', payload: {}, createdAt: T0 }, [
      run({ id: 'r3' }),
    ])
    expect(again).toMatchObject({ duplicate: true, event: { id: 'e1' } })
    expect((await store.listRuns()).map((r) => r.id).sort()).toEqual(['r1', 'r2'])
  })

  it('treats a second event with the same name and idempotency key as the first', async () => {
    await open()
    await store.publish({ id: 'e1', name: 'Order.created', payload: 1, idempotencyKey: 'k', createdAt: T0 }, [])
    const second = await store.publish(
      { id: 'e2', name: 'Order.created', payload: 2, idempotencyKey: 'k', createdAt: T0 },
      [],
    )
    expect(second).toMatchObject({ duplicate: true, event: { id: 'e1', payload: 1 } })
    const other = await store.publish(
      { id: 'e3', name: 'Order.paid', payload: 3, idempotencyKey: 'k', createdAt: T0 },
      [],
    )
    expect(other.duplicate).toBe(false)
    expect(await store.lastEventSeq()).toBe(other.event.seq)
    expect((await store.eventsAfter(['Order.created', 'Order.paid'], 0, 10)).map((e) => e.id)).toEqual(['e1', 'e3'])
    expect(
      (await store.eventsAfter(undefined, first(await store.eventsAfter(undefined, 0, 1)), 10)).map((e) => e.id),
    ).toEqual(['e3'])
  })

  it('enqueues a run once per id and per name and idempotency key', async () => {
    await open()
    const a = await store.enqueue(run({ id: 'a', name: 'Email.send', idempotencyKey: 'k' }))
    const b = await store.enqueue(run({ id: 'b', name: 'Email.send', idempotencyKey: 'k' }))
    const c = await store.enqueue(run({ id: 'a', name: 'Other' }))
    expect([a.duplicate, b.duplicate, c.duplicate]).toEqual([false, true, true])
    expect(b.run.id).toBe('a')
    expect(await store.findRun('Email.send', 'k')).toMatchObject({ id: 'a', status: 'pending' })
  })

  it('claims due runs by priority, leases them, and reclaims expired leases', async () => {
    await open()
    await store.enqueue(run({ id: 'low', priority: 0, availableAt: T0 }))
    await store.enqueue(run({ id: 'high', priority: 10, availableAt: T0 + 5 }))
    await store.enqueue(run({ id: 'later', availableAt: T0 + 60_000 }))
    const claimed = await store.claim({ owner: 'w1', now: T0 + 10, limit: 5, leaseMs: 1000 })
    expect(claimed.map((r) => [r.id, r.status, r.leaseOwner, r.leaseExpiresAt, r.attempt])).toEqual([
      ['high', 'running', 'w1', T0 + 1010, 1],
      ['low', 'running', 'w1', T0 + 1010, 1],
    ])
    expect(await store.claim({ owner: 'w2', now: T0 + 20, limit: 5, leaseMs: 1000 })).toEqual([])
    expect(await store.nextAvailableAt()).toBe(T0 + 1010)
    await store.renewLeases('w1', ['high'], T0 + 5000)
    const reclaimed = await store.claim({ owner: 'w2', now: T0 + 2000, limit: 5, leaseMs: 1000 })
    expect(reclaimed.map((r) => [r.id, r.leaseOwner, r.attempt])).toEqual([['low', 'w2', 2]])
    expect(await store.settle('low', 'w1', { status: 'completed', result: 1, now: T0 + 2001 })).toBeUndefined()
    expect(await store.settle('low', 'w2', { status: 'completed', result: 1, now: T0 + 2001 })).toMatchObject({
      status: 'completed',
      result: 1,
    })
  })

  it('never lets two concurrent claimers take the same run', async () => {
    await open()
    for (let i = 0; i < 40; i++) await store.enqueue(run({ id: `c${i}` }))
    const rounds = await Promise.all(
      ['w1', 'w2', 'w3', 'w4'].map((owner) => store.claim({ owner, now: T0, limit: 15, leaseMs: 60_000 })),
    )
    const ids = rounds.flat().map((r) => r.id)
    expect(ids).toHaveLength(40)
    expect(new Set(ids).size).toBe(40)
  })

  it('keeps to concurrency limits per name and per key, counting every worker’s runs', async () => {
    await open()
    for (const [id, key] of [
      ['a1', 'A'],
      ['a2', 'A'],
      ['b1', 'B'],
      ['a3', 'A'],
    ] as const) {
      await store.enqueue(run({ id, name: 'limited', concurrencyKey: key }))
    }
    await store.enqueue(run({ id: 'free', name: 'free' }))
    const limits = new Map([['limited', 1]])
    const first = await store.claim({ owner: 'w1', now: T0, limit: 10, leaseMs: 60_000, limits })
    expect(first.map((r) => r.id).sort()).toEqual(['a1', 'b1', 'free'])
    const second = await store.claim({ owner: 'w2', now: T0, limit: 10, leaseMs: 60_000, limits })
    expect(second).toEqual([])
    await store.settle('a1', 'w1', { status: 'completed', now: T0 })
    const third = await store.claim({ owner: 'w2', now: T0, limit: 10, leaseMs: 60_000, limits })
    expect(third.map((r) => r.id)).toEqual(['a2'])
  })

  it('keeps to a concurrency limit when workers claim at the same moment', async () => {
    await open()
    for (let i = 0; i < 40; i++) await store.enqueue(run({ id: `s${i}`, name: 'serial', concurrencyKey: 'one' }))
    const limits = new Map([['serial', 1]])
    const rounds = await Promise.all(
      // Each takes a few candidates, so on PostgreSQL they lock different rows and race on the count.
      Array.from({ length: 8 }, (_, i) => store.claim({ owner: `w${i}`, now: T0, limit: 1, leaseMs: 60_000, limits })),
    )
    expect(rounds.flat()).toHaveLength(1)
  })

  it('settles runs: completes, waits, retries with history, and files dead letters', async () => {
    await open()
    await store.enqueue(run({ id: 'x', input: { order: 1 } }))
    await store.claim({ owner: 'w', now: T0, limit: 1, leaseMs: 1000 })
    const error = { name: 'Error', message: 'boom', stack: 'Error: boom\n    at x' }
    await store.settle('x', 'w', {
      status: 'waiting',
      availableAt: T0 + 500,
      waits: [{ kind: 'retry', until: T0 + 500 }],
      failure: { attempt: 1, at: T0, error },
      error,
      now: T0,
    })
    expect(await store.getRun('x')).toMatchObject({
      status: 'waiting',
      failures: 1,
      availableAt: T0 + 500,
      waits: [{ kind: 'retry' }],
    })
    await store.claim({ owner: 'w', now: T0 + 500, limit: 1, leaseMs: 1000 })
    await store.settle('x', 'w', {
      status: 'failed',
      error,
      failure: { attempt: 2, at: T0 + 500, error },
      deadLetterId: 'dl1',
      now: T0 + 501,
    })
    const failed = await store.getRun('x')
    expect(failed).toMatchObject({ status: 'failed', failures: 2, finishedAt: T0 + 501, error })
    expect(failed?.history.map((h) => h.attempt)).toEqual([1, 2])
    const [letter] = await store.listDeadLetters()
    expect(letter).toMatchObject({ id: 'dl1', runId: 'x', name: 'h', payload: { order: 1 }, error })
    expect(letter?.attempts).toHaveLength(2)

    const replayed = await store.replayDeadLetter('dl1', T0 + 1000)
    expect(replayed).toMatchObject({ status: 'pending', failures: 0, availableAt: T0 + 1000 })
    expect(await store.listDeadLetters()).toEqual([])
    expect(await store.replayDeadLetter('dl1', T0 + 1000)).toBeUndefined()

    await store.claim({ owner: 'w', now: T0 + 1000, limit: 1, leaseMs: 1000 })
    await store.settle('x', 'w', { status: 'failed', error, deadLetterId: 'dl2', now: T0 + 1001 })
    expect(await store.discardDeadLetter('dl2', T0 + 1002)).toBe(true)
    expect(await store.getRun('x')).toMatchObject({ status: 'discarded' })
    expect(await store.discardDeadLetter('dl2', T0 + 1002)).toBe(false)
  })

  const suspend = async (id: string, waits: Wait[], now = T0) => {
    await store.enqueue(run({ id, availableAt: now }))
    await store.claim({ owner: 'w', now, limit: 1, leaseMs: 1000 })
    return store.settle(id, 'w', { status: 'waiting', availableAt: NEVER, waits, now })
  }

  it('wakes runs waiting for an event when it is published, by any matching pattern', async () => {
    await open()
    const seq = await store.lastEventSeq()
    await suspend('w-exact', [{ kind: 'event', pattern: 'Order.shipped', afterSeq: seq }])
    await suspend('w-noun', [{ kind: 'event', pattern: 'Order.*', afterSeq: seq }])
    await suspend('w-verb', [{ kind: 'event', pattern: '*.shipped', afterSeq: seq }])
    await suspend('w-other', [{ kind: 'event', pattern: 'Payment.failed', afterSeq: seq }])
    await suspend('w-either', [
      { kind: 'event', pattern: 'Refund.issued', afterSeq: seq },
      { kind: 'event', pattern: 'Order.shipped', afterSeq: seq },
    ])
    expect(await store.nextAvailableAt()).toBeUndefined()
    await store.publish({ id: 'e1', name: 'Order.shipped', payload: {}, createdAt: T0 + 1 }, [])
    const woken = await store.claim({ owner: 'w', now: T0 + 1, limit: 10, leaseMs: 1000 })
    expect(woken.map((r) => r.id).sort()).toEqual(['w-either', 'w-exact', 'w-noun', 'w-verb'])
    expect((await store.getRun('w-other'))?.waits).toEqual([
      { kind: 'event', pattern: 'Payment.failed', afterSeq: seq },
    ])
    expect(patternsFor('A.b')).toEqual(['*', 'A.b', '*.b', 'A.*', '*.*'])
  })

  it('wakes a parent when the child it waits on finishes', async () => {
    await open()
    await suspend('parent', [{ kind: 'run', runId: 'child' }])
    await store.enqueue(run({ id: 'child' }))
    await store.claim({ owner: 'w2', now: T0, limit: 1, leaseMs: 1000 })
    expect(await store.hasRunnable(T0 + 1)).toBe(false)
    await store.settle('child', 'w2', { status: 'completed', result: 1, now: T0 + 1 })
    expect((await store.claim({ owner: 'w', now: T0 + 1, limit: 5, leaseMs: 1000 })).map((r) => r.id)).toEqual([
      'parent',
    ])
  })

  it('makes a run runnable at once if what it starts waiting for already happened', async () => {
    await open()
    const seq = await store.lastEventSeq()
    await store.publish({ id: 'early', name: 'Order.paid', payload: {}, createdAt: T0 }, [])
    const waiting = await suspend('late-waiter', [{ kind: 'event', pattern: 'Order.*', afterSeq: seq }], T0 + 5)
    expect(waiting?.availableAt).toBe(T0 + 5)
    expect((await store.claim({ owner: 'w', now: T0 + 5, limit: 5, leaseMs: 1000 })).map((r) => r.id)).toEqual([
      'late-waiter',
    ])
    await store.enqueue(run({ id: 'done-child' }))
    await store.claim({ owner: 'w2', now: T0, limit: 1, leaseMs: 1000 })
    await store.settle('done-child', 'w2', { status: 'completed', now: T0 })
    expect((await suspend('late-parent', [{ kind: 'run', runId: 'done-child' }], T0 + 6))?.availableAt).toBe(T0 + 6)
  })

  it('sweeps up a waiting run whose wake-up was missed', async () => {
    const { store: made, sql } = await makeWithSql()
    store = made
    await store.open()
    await suspend('stranded', [{ kind: 'event', pattern: 'Order.paid', afterSeq: 0 }])
    // An event that arrived without waking it (as a wake-up racing a suspension can on PostgreSQL).
    await sql("INSERT INTO bac_events (id, name, payload, created_at) VALUES ('raw', 'Order.paid', '[{}]', 1)")
    expect(await store.hasRunnable(T0 + 1)).toBe(false)
    expect(await store.sweepWaiting(T0 + 1)).toBe(1)
    expect(await store.hasRunnable(T0 + 1)).toBe(true)
  })

  it('stores a step once: the first result wins', async () => {
    await open()
    await store.saveStep({
      runId: 'r',
      key: 'charge',
      result: { id: 'ch_1', at: new Date(T0) },
      startedAt: T0,
      finishedAt: T0 + 1,
    })
    const second = await store.saveStep({
      runId: 'r',
      key: 'charge',
      result: { id: 'ch_2' },
      startedAt: T0 + 2,
      finishedAt: T0 + 3,
    })
    expect(second.result).toEqual({ id: 'ch_1', at: new Date(T0) })
    expect((await store.steps('r')).map((s) => [s.key, s.result])).toEqual([
      ['charge', { id: 'ch_1', at: new Date(T0) }],
    ])
  })

  it('counts runs by state, and says since when the longest-waiting runnable one has been due', async () => {
    await open()
    await store.enqueue(run({ id: 'due', availableAt: T0 + 100 }))
    await store.enqueue(run({ id: 'later', availableAt: T0 + 10_000 }))
    await store.enqueue(run({ id: 'orphan', availableAt: T0 }))
    await store.claim({ owner: 'w', now: T0, limit: 1, leaseMs: 50 }) // its worker dies: due again at T0 + 50
    expect(await store.stats(T0 + 1000)).toEqual({
      runnable: 1,
      waiting: 0,
      running: 1,
      deadLetters: 0,
      oldestDueAt: T0 + 50,
    })
    await store.claim({ owner: 'w2', now: T0 + 1000, limit: 5, leaseMs: 60_000 })
    expect((await store.stats(T0 + 1000)).oldestDueAt).toBeUndefined()
  })

  it('releases the leases of owners that are gone, and of a stopping worker', async () => {
    await open()
    await store.enqueue(run({ id: 'a' }))
    await store.enqueue(run({ id: 'b' }))
    await store.claim({ owner: 'dead', now: T0, limit: 1, leaseMs: 60_000 })
    await store.claim({ owner: 'alive', now: T0, limit: 1, leaseMs: 60_000 })
    expect((await store.leaseOwners(T0)).sort()).toEqual(['alive', 'dead'])
    expect(await store.releaseOwners(['dead'], T0 + 1)).toBe(1)
    expect((await store.claim({ owner: 'new', now: T0 + 1, limit: 5, leaseMs: 1000 })).map((r) => r.id)).toEqual(['a'])
    await store.releaseLeases('alive', ['b'], T0 + 2)
    expect((await store.getRun('b'))?.status).toBe('pending')
  })

  it('updates shared state atomically, even a key that does not exist yet', async () => {
    await open()
    const add = () =>
      store.state.update<number, number>('count', 'new-key', (n) => ({ value: (n ?? 0) + 1, result: (n ?? 0) + 1 }), T0)
    const results = await Promise.all(Array.from({ length: 20 }, add))
    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(await store.state.get('count', 'new-key')).toBe(20)
    expect(await store.state.list('count')).toEqual([{ key: 'new-key', value: 20 }])
  })

  it('caches values until they expire or are invalidated by key, pattern or tag', async () => {
    await open()
    await store.cache.set('products:1', { price: 1 }, T0 + 100, ['Product:1', 'Product'])
    await store.cache.set('products:2', { price: 2 }, T0 + 100, ['Product:2', 'Product'])
    await store.cache.set('users:1', 'ann', T0 + 100, [])
    expect(await store.cache.get('products:1', T0)).toEqual({ value: { price: 1 }, expiresAt: T0 + 100 })
    expect(await store.cache.get('products:1', T0 + 100)).toBeUndefined()
    expect(await store.cache.invalidate({ tags: ['Product:2'] })).toEqual(['products:2'])
    expect(await store.cache.get('products:2', T0)).toBeUndefined()
    await store.cache.set('products:3', 3, T0 + 100, ['Product'])
    expect((await store.cache.invalidate({ pattern: 'products:*' })).sort()).toEqual(['products:1', 'products:3'])
    expect(await store.cache.invalidate({ keys: ['users:1', 'nope'] })).toEqual(['users:1'])
    expect(await store.cache.get('users:1', T0)).toBeUndefined()
  })

  it('does not cache a result computed before a write to a type it is tagged with', async () => {
    await open()
    await store.documents.transaction((tx) => tx.invalidateCache(['Product'], ['Product'], T0 + 10))
    const guard = { types: ['Product'], now: T0 + 20 }
    expect(await store.cache.set('p:1', 1, T0 + 100, ['Product:1'], { ...guard, since: T0 + 10 })).toBe(false)
    expect(await store.cache.get('p:1', T0 + 20)).toBeUndefined()
    expect(await store.cache.set('p:1', 1, T0 + 100, ['Product:1'], { ...guard, since: T0 + 11 })).toBe(true)
    // A later write drops it in its own transaction, and says which keys went.
    const dropped = await store.documents.transaction((tx) => tx.invalidateCache(['Product'], ['Product:1'], T0 + 30))
    expect(dropped.value).toEqual(['p:1'])
    expect(await store.cache.get('p:1', T0 + 30)).toBeUndefined()
  })

  it('debounces: one unstarted run per key, also for concurrent publishes and events of one write', async () => {
    await open()
    const debounced = (rev: number, key = 'd1'): NewRun =>
      run({ id: `r-${key}-${rev}`, name: 'Doc.edited', input: { rev }, availableAt: T0 + 10_000, debounce: { key } })
    const event = (i: number) => ({ id: `ev-${i}`, name: 'Doc.edited', payload: {}, createdAt: T0 })
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.publish(event(i), [debounced(i)])))
    let runs = await store.listRuns({})
    expect(runs).toHaveLength(1)
    // Events stored by one write (a batch) merge with each other.
    await store.documents.transaction(async (tx) => {
      tx.publish(event(100), [debounced(100, 'd2')])
      tx.publish(event(101), [debounced(101, 'd2')])
    })
    runs = await store.listRuns({})
    expect(runs).toHaveLength(2)
    expect(runs.map((r) => r.input)).toContainEqual({ rev: 101 })
    // Once claimed, a run keeps its input: the next event gets a run of its own.
    const claimed = await store.claim({ owner: 'w', now: T0 + 10_000, limit: 2, leaseMs: 1000 })
    expect(claimed).toHaveLength(2)
    await store.publish(event(200), [debounced(200)])
    runs = await store.listRuns({})
    expect(runs).toHaveLength(3)
    expect(runs.find((r) => r.status === 'pending')?.input).toEqual({ rev: 200 })
    for (const c of claimed) expect((await store.getRun(c.id))?.input).toEqual(c.input)
  })

  it('keeps deployed versions: once each, one active', async () => {
    await open()
    expect(
      await store.deployments.save({ version: '1.0.0', bundle: 'export default 1', sha256: 'aaa', now: T0 }),
    ).toEqual({ duplicate: false })
    expect(
      await store.deployments.save({ version: '1.0.0', bundle: 'export default 1', sha256: 'aaa', now: T0 + 1 }),
    ).toEqual({ duplicate: true })
    await expect(
      store.deployments.save({ version: '1.0.0', bundle: 'other', sha256: 'bbb', now: T0 + 2 }),
    ).rejects.toThrow('version 1.0.0 is already deployed with other code')
    await store.deployments.save({ version: '1.1.0', bundle: 'export default 2', sha256: 'ccc', now: T0 + 3 })
    expect(await store.deployments.activate('1.0.0', T0 + 4)).toBe(true)
    expect(await store.deployments.activate('1.1.0', T0 + 5)).toBe(true)
    expect(await store.deployments.activate('9.9.9', T0 + 6)).toBe(false)
    expect(await store.deployments.list()).toEqual([
      { version: '1.1.0', sha256: 'ccc', createdAt: T0 + 3, activatedAt: T0 + 5, active: true },
      { version: '1.0.0', sha256: 'aaa', createdAt: T0, activatedAt: T0 + 4, active: false },
    ])
    expect((await store.deployments.get('1.0.0'))?.bundle).toBe('export default 1')
  })

  it('syncs schedules and fires each tick once', async () => {
    await open()
    const synced = await store.syncSchedules([
      { name: 'daily', cron: '0 0 * * *', nextAt: T0 + 100 },
      { name: 'hourly', cron: '0 * * * *', timezone: 'Europe/Berlin', nextAt: T0 + 50 },
    ])
    expect(synced.map((s) => [s.name, s.nextAt, s.active])).toEqual([
      ['daily', T0 + 100, true],
      ['hourly', T0 + 50, true],
    ])
    const tick = run({ id: 'tick-1', kind: 'schedule', name: 'daily', idempotencyKey: `tick:${T0 + 100}` })
    expect(await store.fireSchedule('daily', T0 + 100, { nextAt: T0 + 200, firedAt: T0 + 100, missed: 2 }, tick)).toBe(
      true,
    )
    expect(
      await store.fireSchedule(
        'daily',
        T0 + 100,
        { nextAt: T0 + 200, firedAt: T0 + 100, missed: 0 },
        { ...tick, id: 'tick-2' },
      ),
    ).toBe(false)
    expect((await store.listRuns({ kind: 'schedule' })).map((r) => r.id)).toEqual(['tick-1'])
    const kept = await store.syncSchedules([
      { name: 'daily', cron: '0 0 * * *', nextAt: T0 + 999 },
      { name: 'weekly', cron: '0 0 * * 1', nextAt: T0 + 700 },
    ])
    expect(kept.map((s) => [s.name, s.nextAt, s.active, s.missed, s.lastFiredAt])).toEqual([
      ['daily', T0 + 200, true, 2, T0 + 100],
      ['hourly', T0 + 50, false, 0, undefined],
      ['weekly', T0 + 700, true, 0, undefined],
    ])
    const changed = await store.syncSchedules([{ name: 'daily', cron: '0 6 * * *', nextAt: T0 + 300 }])
    expect(changed.find((s) => s.name === 'daily')?.nextAt).toBe(T0 + 300)
  })
})

describe.skipIf(!POSTGRES_URL)('the postgres store under races', () => {
  it('leaves one version active when workers activate versions at the same moment', async () => {
    const url = await freshPostgresUrl()
    const workers = [postgres({ url }), postgres({ url })]
    for (const worker of workers) await worker.open()
    try {
      const versions = Array.from({ length: 10 }, (_, i) => `1.${i}.0`)
      for (const version of versions)
        await workers[0]?.deployments.save({ version, bundle: version, sha256: version, now: T0 })
      for (let round = 0; round < 5; round++) {
        await Promise.all(versions.map((v, i) => workers[i % 2]?.deployments.activate(v, T0 + round)))
        const active = (await workers[1]?.deployments.list())?.filter((d) => d.active) ?? []
        expect(active).toHaveLength(1)
      }
    } finally {
      for (const worker of workers) await worker.close()
    }
  })

  it('gives an event its own run when the debounced run it would refresh is being claimed', async () => {
    const url = await freshPostgresUrl()
    const store = postgres({ url })
    await store.open()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const debounced = (rev: number): NewRun =>
      run({ id: `race-${rev}`, name: 'Doc.edited', input: { rev }, availableAt: T0, debounce: { key: 'd1' } })
    try {
      await store.publish({ id: 'ev-a', name: 'Doc.edited', payload: {}, createdAt: T0 }, [debounced(1)])
      // Another worker is claiming it: the row is locked; the publish below must wait, then see it taken.
      await client.query('begin')
      await client.query('select id from bac_runs where id = $1 for update', ['race-1'])
      const publishing = store.publish({ id: 'ev-b', name: 'Doc.edited', payload: {}, createdAt: T0 + 1 }, [
        debounced(2),
      ])
      await new Promise((resolve) => setTimeout(resolve, 200))
      await client.query(`update bac_runs set status = 'running', attempt = attempt + 1 where id = $1`, ['race-1'])
      await client.query('commit')
      await publishing
      const runs = await store.listRuns({})
      expect(runs.map((r) => [r.status, r.input])).toEqual(
        expect.arrayContaining([
          ['running', { rev: 1 }],
          ['pending', { rev: 2 }],
        ]),
      )
    } finally {
      await client.end()
      await store.close()
    }
  })
})

describe('migrations', () => {
  it('refuse a database migrated by a newer bac', async () => {
    const file = tempFile()
    const first = sqlite({ file })
    await first.open()
    await first.close()
    const Database = (await import('better-sqlite3')).default
    const raw = new Database(file)
    raw
      .prepare('INSERT INTO bac_migration (name, timestamp) VALUES (?, ?)')
      .run('9999_future', new Date().toISOString())
    raw.close()
    const second = sqlite({ file })
    await expect(second.open()).rejects.toThrow(
      /the bac database at .*bac\.db was migrated by a newer version of bac \(it has migration 9999_future, this version knows up to 0006_document_versions\); upgrade bac/,
    )
    await second.close()
  })

  it('create the database file and its directory on first use, and reopen it', async () => {
    const file = `${tempFile('x')}/nested/dir/dev.db`
    const store = sqlite({ file })
    await store.open()
    await store.enqueue({ id: 'kept', kind: 'handler', name: 'h', input: 1, availableAt: T0 })
    await store.close()
    const again = sqlite({ file })
    await again.open()
    expect((await again.getRun('kept'))?.input).toBe(1)
    await again.close()
  })
})

const first = (events: readonly { seq: number }[]): number => events[0]?.seq ?? 0
