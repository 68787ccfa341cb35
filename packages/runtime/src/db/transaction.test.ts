/**
 * `db.transaction`, on SQLite and (with BAC_TEST_POSTGRES_URL) PostgreSQL: all or nothing, with
 * the events of its writes and sends; reads that see its own writes and lock with `forUpdate`;
 * the ambient `db` and collection handles mean the transaction inside it; what a transaction
 * cannot hold is refused; in a run it is one durable step.
 */
import { $, db, NonRetryableError, on, send, sleep, step } from '@bac/sdk'
import { beforeAll, describe, expect, it } from 'vitest'
import { announcePostgresSkip, testStores } from '../store/test-stores.fixture.ts'
import { testRuntimes } from '../test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('db.transaction on $name', ({ name, make }) => {
  const start = testRuntimes(make)

  const transfer = (from: string, to: string, amount: number) =>
    db.transaction(async (tx) => {
      const source = await tx.get<{ balance: number }>('Account', from, { forUpdate: true })
      if (!source || source.balance < amount) throw new NonRetryableError(`insufficient funds in ${from}`)
      await tx.update('Account', from, { $inc: { balance: -amount } })
      await tx.update('Account', to, { $inc: { balance: amount } })
      await tx.create('Ledger', { from, to, amount })
      return (await tx.get<{ balance: number }>('Account', from))?.balance
    })

  it('commits every write and its events together, or on a throw none of them', async () => {
    const seen: string[] = []
    const { rt } = await start(() => {
      on($.Ledger.created, (entry: { amount: number }) => {
        seen.push(`ledger ${entry.amount}`)
      })
      on($.Transfer.done, ({ amount }: { amount: number }) => {
        seen.push(`done ${amount}`)
      })
    })
    await rt.db.create('Account', { $id: 'a', balance: 10 })
    await rt.db.create('Account', { $id: 'b', balance: 0 })
    // Reads inside see the transaction's own writes: `a` after the debit.
    expect(await rt.run(() => transfer('a', 'b', 4))).toBe(6)
    await expect(rt.run(() => transfer('a', 'b', 7))).rejects.toThrow('insufficient funds in a')
    const failed = rt.db.transaction(async (tx) => {
      await tx.update('Account', 'a', { $inc: { balance: -1 } })
      await tx.create('Ledger', { amount: 1 })
      await send($.Transfer.done, { amount: 1 })
      throw new Error('changed my mind')
    })
    await expect(failed).rejects.toThrow('changed my mind')
    const sent = await rt.db.transaction(async (tx) => {
      await tx.update('Account', 'b', { $inc: { balance: 1 } })
      return send($.Transfer.done, { amount: 2 })
    })
    expect(sent).toEqual(expect.any(String))
    await rt.drain()
    expect((await rt.db.find('Account', {}, { sort: { $id: 1 } })).map((a) => a.balance)).toEqual([6, 5])
    expect(await rt.db.count('Ledger')).toBe(1)
    expect(seen.sort()).toEqual(['done 2', 'ledger 4'])
    expect((await rt.store.getEvent(sent as string))?.name).toBe('Transfer.done')
  })

  it('makes the ambient db and collection handles mean the transaction inside it', async () => {
    const { rt } = await start(() => {
      const stock = $.db.collection<{ available: number }>('stock')
      $.service({
        name: 'Inventory',
        data: { stock },
        operations: {
          // All or nothing across SKUs: a refused line undoes the lines before it.
          reserve: ({ lines }: { lines: { id: string; n: number }[] }) =>
            db.transaction(async () => {
              for (const { id, n } of lines) {
                const taken = await stock.update(id, { $inc: { available: -n } }, { where: { 'available:gte': n } })
                if (!taken) throw new NonRetryableError(`out of ${id}`)
              }
              return stock.find({}, { sort: { $id: 1 } })
            }),
        },
      })
    })
    await rt.db.create('stock', { $id: 'lamp', available: 2 })
    await rt.db.create('stock', { $id: 'desk', available: 1 })
    await expect(
      rt.send($.Inventory.reserve, {
        lines: [
          { id: 'lamp', n: 1 },
          { id: 'desk', n: 2 },
        ],
      }),
    ).rejects.toThrow('out of desk')
    expect((await rt.db.find('stock', {}, { sort: { $id: 1 } })).map((s) => s.available)).toEqual([1, 2])
    const after = (await rt.send($.Inventory.reserve, { lines: [{ id: 'lamp', n: 2 }] })) as { available: number }[]
    expect(after.map((s) => s.available)).toEqual([1, 0])
  })

  it('locks rows read with forUpdate, so a read-check-write in another transaction waits and sees the result', async () => {
    const { rt } = await start()
    await rt.db.create('Seat', { $id: 's1', holder: null })
    const claim = (who: string) =>
      rt.db.transaction(async (tx) => {
        const seat = await tx.get<{ holder: string | null }>('Seat', 's1', { forUpdate: true })
        if (seat?.holder) return `${who}: taken by ${seat.holder}`
        await tx.update('Seat', 's1', { holder: who })
        return `${who}: mine`
      })
    const outcomes = await Promise.all(['ann', 'bob', 'cid', 'dee'].map(claim))
    expect(outcomes.filter((o) => o.endsWith('mine'))).toHaveLength(1)
    const [found] = await rt.db.transaction((tx) => tx.find('Seat', { holder: { $ne: null } }, { forUpdate: true }))
    expect(outcomes).toContain(`${found?.holder}: mine`)
  })

  it('is part of whatever its function began, awaited or not; Promise.all of updates loses none', async () => {
    const seen: number[] = []
    const { rt } = await start(() => {
      on($.C.updated, (doc: { n: number }) => {
        seen.push(doc.n)
      })
    })
    await rt.db.create('C', { $id: 'c', n: 0 })
    await rt.db.transaction((tx) =>
      Promise.all(Array.from({ length: 20 }, () => tx.update('C', 'c', { $inc: { n: 1 } }))),
    )
    expect(await rt.db.get('C', 'c')).toMatchObject({ n: 20, $version: 21 })
    // Not awaited: still written with the transaction, its event with it.
    await rt.db.transaction(async (tx) => {
      void tx.update('C', 'c', { $inc: { n: 1 } })
      return 'done'
    })
    await rt.db.batchCreate(
      'L',
      Array.from({ length: 50 }, (_, i) => ({ i, n: 0 })),
    )
    await rt.db.transaction(async (tx) => {
      void tx.updateMany('L', {}, { $inc: { n: 1 } })
      await tx.get('L', 'none')
    })
    expect(await rt.db.count('L', { n: 1 })).toBe(50)
    // A failure the function did not await rolls the transaction back.
    const failed = rt.db.transaction(async (tx) => {
      await tx.update('C', 'c', { $inc: { n: 100 } })
      void tx.update('C', 'missing', { n: 1 })
    })
    await expect(failed).rejects.toThrow('update(C): no document "missing"')
    // Also when it failed before the function returned, but no one awaited it.
    const lost = rt.db.transaction(async (tx) => {
      void tx.update('C', 'missing', { n: 1 })
      await tx.update('C', 'c', { $inc: { n: 100 } })
    })
    await expect(lost).rejects.toThrow('update(C): no document "missing"')
    // One that was awaited and caught is the code's business.
    await rt.db.transaction(async (tx) => {
      await tx.update('C', 'missing', { n: 1 }).catch(() => 'fine')
    })
    expect(await rt.db.get('C', 'c')).toMatchObject({ n: 21 })
    await rt.drain()
    expect(seen).toHaveLength(21)
    expect(Math.max(...seen)).toBe(21)
  })

  it('can await, inside, a write begun before it (SQLite commits it first)', async () => {
    const { rt } = await start()
    const made = await rt.run(async () => {
      const order = db.create<{ total: number }>('Order', { total: 1 })
      return db.transaction(async (tx) => {
        const o = await order
        return tx.create('Line', { order: o.$id })
      })
    })
    expect(await rt.db.count('Order')).toBe(1)
    expect(await rt.db.get('Line', made.$id)).toMatchObject({ order: expect.any(String) })
  })

  it('goes on after a write inside it fails and is caught, on both stores', async () => {
    const { rt } = await start()
    await rt.db.create('User', { $id: 'ann', visits: 1 })
    await rt.db.createIndex('User', ['email'], { unique: true })
    const visits = await rt.db.transaction(async (tx) => {
      try {
        await tx.create('User', { $id: 'ann' })
      } catch {
        await tx.update('User', 'ann', { $inc: { visits: 1 } })
      }
      await tx.create('User', { $id: 'bob', email: 'b@x' })
      await tx.create('User', { $id: 'bea', email: 'b@x' }).catch((e: Error) => e.message)
      return (await tx.get<{ visits: number }>('User', 'ann'))?.visits
    })
    expect(visits).toBe(2)
    expect(await rt.db.count('User')).toBe(2)
  })

  it('sends an event once per idempotency key, and a document’s created event once though sent again', async () => {
    const seen: string[] = []
    const { rt } = await start(() => {
      on($.Pay.made, ({ n }: { n: number }) => {
        seen.push(`pay ${n}`)
      })
      on($.Order.created, (order: { total: number }) => {
        seen.push(`order ${order.total}`)
      })
    })
    const first = await rt.send($.Pay.made, { n: 1 }, { idempotencyKey: 'k' })
    const inside = await rt.db.transaction(() => send($.Pay.made, { n: 2 }, { idempotencyKey: 'k' }))
    expect(inside).toBe(first)
    const announced: string[] = []
    await rt.db.transaction(async (tx) => {
      const order = await tx.create('Order', { total: 7 })
      announced.push((await send($.Order.created, order)) as string)
    })
    await rt.drain()
    expect(seen.sort()).toEqual(['order 7', 'pay 1'])
    expect(await rt.store.eventsAfter(['Order.created'], 0, 10)).toHaveLength(1)
    expect((await rt.store.eventsAfter(['Order.created'], 0, 10))[0]?.id).toBe(announced[0])
  })

  it('accepts an isolation level', async () => {
    const { rt } = await start()
    await rt.db.create('Account', { $id: 'a', balance: 1 })
    const read = (isolation: 'serializable' | 'repeatable read') =>
      rt.db.transaction(async (tx) => (await tx.get('Account', 'a'))?.balance, { isolation })
    expect(await read('serializable')).toBe(1)
    expect(await read('repeatable read')).toBe(1)
  })

  it('refuses what a transaction cannot hold, and bad input, with errors saying so', async () => {
    let Cached: { cache: { invalidatePattern(pattern: string): Promise<number> } } = undefined as never
    const { rt } = await start(() => {
      $.service({ name: 'Mail', operations: { send: () => 'sent' } })
      Cached = $.service({ name: 'Quotes', cache: { ttl: '1m' }, operations: { quote: () => 1 } })
    })
    await rt.db.create('Account', { $id: 'a', balance: 1 })
    const inside = (what: (tx: unknown) => Promise<unknown>) => rt.run(() => rt.db.transaction(what as never))
    const refusals: [() => Promise<unknown>, string][] = [
      [
        () => inside(() => step('charge', () => 1)),
        'step("charge") inside db.transaction(): a transaction holds its locks',
      ],
      [() => inside(() => sleep('1s')), 'sleep() inside db.transaction()'],
      [() => inside(() => Cached.cache.invalidatePattern('q:*')), 'the result cache inside db.transaction()'],
      [() => inside(() => send($.Mail.send, {})), 'send(Mail.send), which calls an operation, inside db.transaction()'],
      [() => inside(() => db.transaction(async () => 1)), 'db.transaction(): transactions do not nest'],
      [() => inside((tx) => (tx as typeof db).transaction(async () => 1)), 'transactions do not nest'],
      [
        () => inside(() => rt.db.get('Account', 'a')),
        'a db call on a db from outside the transaction inside db.transaction()',
      ],
      [() => inside(() => rt.send($.Audit.logged, {})), 'a write outside the transaction inside db.transaction()'],
      [() => rt.db.transaction('work' as never), 'db.transaction(): expected a function (tx) => ..., got "work"'],
      [
        () => rt.db.transaction(async () => 1, { isolation: 'snapshot' as never }),
        'db.transaction(): isolation must be one of read committed, repeatable read, serializable; got "snapshot"',
      ],
      [
        () => rt.db.transaction(async () => 1, { isolaton: 'serializable' } as never),
        'unknown option "isolaton" (did you mean "isolation"?)',
      ],
    ]
    for (const [refused, message] of refusals) await expect(refused()).rejects.toThrow(message)
    let leaked: typeof db | undefined
    await rt.db.transaction(async (tx) => {
      leaked = tx as typeof db
    })
    await expect(leaked?.get('Account', 'a')).rejects.toThrow('this transaction has ended')
    expect(await rt.db.get('Account', 'a')).toMatchObject({ balance: 1, $version: 1 })
    expect(await rt.store.eventsAfter(undefined, 0, 10)).toHaveLength(1) // Account.created only
    expect(name).toBeTruthy()
  })

  it('is one durable step in a run: a retried run gets its result back instead of writing again', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      on($.Payday.came, async ({ amount }: { amount: number }) => {
        const balance = await db.transaction(async (tx) => {
          const account = await tx.update<{ balance: number }>('Account', 'a', { $inc: { balance: amount } })
          await tx.create('Ledger', { amount })
          return account.balance
        })
        if (++attempts === 1) throw new Error('after the transaction')
        return balance
      })
    })
    await rt.db.create('Account', { $id: 'a', balance: 0 })
    await rt.send($.Payday.came, { amount: 5 })
    await rt.drain()
    await clock.advance('1s')
    await rt.drain()
    expect(attempts).toBe(2)
    expect(await rt.db.get('Account', 'a')).toMatchObject({ balance: 5, $version: 2 })
    expect(await rt.db.count('Ledger')).toBe(1)
    const [run] = await rt.runs.list({ kind: 'handler' })
    const detail = run ? await rt.runs.get(run.id) : undefined
    expect(detail?.status).toBe('completed')
    expect(detail?.result).toBe(5)
    expect(detail?.steps.map((s) => [s.key, s.result])).toEqual([
      [expect.stringMatching(/^\$db\(transaction:[0-9a-f]{12}\)#1$/), 5],
    ])
  })

  it('in a run, a transaction that throws writes nothing and is tried again with the run', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      on($.Import.started, async () => {
        await db.transaction(async (tx) => {
          await tx.create('Row', { n: 1 })
          if (++attempts < 3) throw new Error(`flaky ${attempts}`)
        })
      })
    })
    await rt.send($.Import.started, {})
    for (let i = 0; i < 3; i++) {
      await rt.drain()
      await clock.advance('10s')
    }
    await rt.drain()
    expect(attempts).toBe(3)
    expect(await rt.db.count('Row')).toBe(1)
  })
})
