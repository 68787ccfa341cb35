/**
 * Conditional and versioned writes, on SQLite and (with BAC_TEST_POSTGRES_URL) PostgreSQL:
 * `$version`, `where` (null when it does not hold, a ConflictError with `orFail`), `ifVersion`,
 * `updateMany`, conditional deletes — and bad input, which is refused before anything is written.
 */
import { $, db, isConflictError, on, step } from '@bac/sdk'
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { announcePostgresSkip, testStores } from '../store/test-stores.fixture.ts'
import { testRuntimes } from '../test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('conditional and versioned writes on $name', ({ make }) => {
  const start = testRuntimes(make)

  it('counts a version per document: 1 when created, one more on every write', async () => {
    const { rt } = await start()
    const lamp = await rt.db.create('Product', { name: 'Lamp', stock: 5 })
    expect(lamp.$version).toBe(1)
    expect((await rt.db.update('Product', lamp.$id, { $inc: { stock: -1 } })).$version).toBe(2)
    expect((await rt.db.upsert('Product', { $id: lamp.$id, name: 'Lamp 2' })).$version).toBe(3)
    expect(await rt.db.get('Product', lamp.$id)).toMatchObject({ $version: 3, name: 'Lamp 2', stock: 4 })
    expect(await rt.db.updateMany('Product', {}, { $set: { sale: true } })).toBe(1)
    expect((await rt.db.findOne('Product', { sale: true }))?.$version).toBe(4)
  })

  it('writes with where only while the document matches: null otherwise, or a ConflictError with orFail', async () => {
    const changes: string[] = []
    const { rt } = await start(() => {
      on($.Stock.updated, (doc: { available: number }) => {
        changes.push(`available ${doc.available}`)
      })
    })
    const lamp = await rt.db.create('Stock', { sku: 'lamp', available: 2 })
    const take = (n: number) =>
      rt.db.update('Stock', lamp.$id, { $inc: { available: -n } }, { where: { 'available:gte': n } })
    expect(await take(2)).toMatchObject({ available: 0, $version: 2 })
    expect(await take(1)).toBeNull()
    const refused = await rt.db
      .update('Stock', lamp.$id, { $inc: { available: -1 } }, { where: { 'available:gte': 1 }, orFail: true })
      .catch((e: unknown) => e)
    expect(isConflictError(refused)).toBe(true)
    expect(refused).toMatchObject({
      code: 'BAC_CONFLICT',
      currentVersion: 2,
      message: `update(Stock): ${lamp.$id} does not match where {"available:gte":1}; nothing was written`,
    })
    // Not retried: the same document would fail the same condition again.
    expect((refused as { retryable: boolean }).retryable).toBe(false)
    // Not retried: the same document would fail the same condition again.
    expect((refused as { retryable: boolean }).retryable).toBe(false)
    expect(await rt.db.get('Stock', lamp.$id)).toMatchObject({ available: 0, $version: 2 })
    // By query, with a condition: the first document the query finds, if it matches.
    expect(await rt.db.update('Stock', { sku: 'lamp' }, { available: 9 }, { where: { available: 0 } })).toMatchObject({
      available: 9,
    })
    await expect(rt.db.update('Stock', 'nope', { available: 1 }, { where: { available: 0 } })).rejects.toThrow(
      'update(Stock): no document "nope"',
    )
    await rt.drain()
    // A write that did not happen emitted nothing.
    expect(changes).toEqual(['available 0', 'available 9'])
  })

  it('writes with ifVersion only if no one wrote since, naming the current version otherwise', async () => {
    const { rt } = await start()
    const account = await rt.db.create('Account', { owner: 'ann', balance: 10 })
    const mine = await rt.db.update('Account', account.$id, { balance: 20 }, { ifVersion: account.$version })
    expect(mine.$version).toBe(2)
    const stale = await rt.db
      .update('Account', account.$id, { balance: 99 }, { ifVersion: account.$version })
      .catch((e: unknown) => e)
    expect(stale).toMatchObject({
      code: 'BAC_CONFLICT',
      currentVersion: 2,
      message: `update(Account): ${account.$id} is at version 2, not 1 — it was written since it was read; read it again`,
    })
    expect(await rt.db.get('Account', account.$id)).toMatchObject({ balance: 20, $version: 2 })
    // A ConflictError is retried like any failure: the next attempt reads again.
    expect((stale as { retryable: boolean }).retryable).toBe(true)
  })

  it('deletes with conditions: false when where does not hold, a ConflictError on a stale version', async () => {
    const { rt } = await start()
    const cart = await rt.db.create('Cart', { items: 1 })
    expect(await rt.db.delete('Cart', cart.$id, { where: { items: 0 } })).toBe(false)
    await expect(rt.db.delete('Cart', cart.$id, { where: { items: 0 }, orFail: true })).rejects.toThrow(
      'does not match where {"items":0}',
    )
    await rt.db.update('Cart', cart.$id, { items: 0 })
    await expect(rt.db.delete('Cart', cart.$id, { ifVersion: 1 })).rejects.toThrow('is at version 2, not 1')
    expect(await rt.db.delete('Cart', cart.$id, { where: { items: 0 }, ifVersion: 2 })).toBe(true)
    expect(await rt.db.get('Cart', cart.$id)).toBeNull()
  })

  it('updates many documents in one transaction: all of them, or none when one cannot take the patch', async () => {
    const { rt } = await start()
    await rt.db.batchCreate('Task', [
      { state: 'open', tries: 0 },
      { state: 'open', tries: 2 },
      { state: 'done', tries: 1 },
    ])
    expect(await rt.db.updateMany('Task', { state: 'open' }, { $inc: { tries: 1 }, $set: { state: 'queued' } })).toBe(2)
    expect((await rt.db.find('Task', {}, { sort: { state: 1, tries: 1 } })).map((t) => [t.state, t.tries])).toEqual([
      ['done', 1],
      ['queued', 1],
      ['queued', 3],
    ])
    await rt.db.create('Task', { state: 'queued', tries: 'many' })
    await expect(rt.db.updateMany('Task', { state: 'queued' }, { $inc: { tries: 1 } })).rejects.toThrow(
      'updateMany(Task): $inc at tries needs a number there, but tries is "many"',
    )
    expect((await rt.db.find('Task', { state: 'queued' })).map((t) => t.tries).sort()).toEqual([1, 3, 'many'])
    await expect(rt.db.updateMany('Task', undefined as never, { state: 'x' })).rejects.toThrow(
      'updateMany(Task): query must be an object of conditions ({} updates every document), got undefined',
    )
  })

  it('gives collections the same conditions', async () => {
    const { rt } = await start(() => {
      const stock = $.db.collection<{ sku: string; available: number }>('stock')
      $.service({
        name: 'Inventory',
        data: { stock },
        operations: {
          take: async ({ id, n }: { id: string; n: number }) =>
            (await stock.update(id, { $inc: { available: -n } }, { where: { 'available:gte': n } })) !== null,
          clear: () => stock.updateMany({}, { available: 0 }),
        },
      })
    })
    const lamp = await rt.db.create('stock', { sku: 'lamp', available: 1 })
    expect(await rt.send($.Inventory.take, { id: lamp.$id, n: 1 })).toBe(true)
    expect(await rt.send($.Inventory.take, { id: lamp.$id, n: 1 })).toBe(false)
    expect(await rt.send($.Inventory.clear, {})).toBe(1)
  })

  it('refuses bad input with an error naming the field, and writes nothing', async () => {
    const { rt } = await start()
    const counter = await rt.db.create('Counter', { n: 1, label: 'x' })
    const refusals: [() => Promise<unknown>, string | RegExp][] = [
      [() => rt.db.update('Counter', counter.$id, { $incr: { n: 1 } }), '$incr is not an update operator'],
      [
        () => rt.db.update('Counter', counter.$id, { $inc: { label: 1 } }),
        '$inc at label needs a number there, but label is "x"',
      ],
      [() => rt.db.update('Counter', counter.$id, { $inc: { n: 'one' } }), '$inc at n needs a number, got "one"'],
      [
        () => rt.db.update('Counter', counter.$id, { n: 2 }, { where: { n: { $gte: 1, $near: 3 } } }),
        /query: n has an unknown operator; use one of .*, got "\$near"/,
      ],
      [
        () => rt.db.update('Counter', counter.$id, { n: 2 }, { where: 'n > 1' as never }),
        /where must be a query object .* got "n > 1"/,
      ],
      [
        () => rt.db.update('Counter', counter.$id, { n: 2 }, { ifVersion: -1 }),
        "update(Counter): ifVersion must be a whole number of 0 or more (a document's $version), got -1",
      ],
      [() => rt.db.update('Counter', counter.$id, { n: 2 }, { ifVersion: '1' as never }), 'got "1"'],
      [() => rt.db.update('Counter', counter.$id, { n: 2 }, { ifVersion: 1.5 }), 'got 1.5'],
      [
        () => rt.db.update('Counter', counter.$id, { n: 2 }, { ifversion: 1 } as never),
        'update(Counter): unknown option "ifversion" (did you mean "ifVersion"?); known options are where, ifVersion, orFail',
      ],
      [
        () => rt.db.update('Counter', counter.$id, { n: 2 }, { orFail: 'yes' as never }),
        'orFail must be true or false, got "yes"',
      ],
      [
        () => rt.db.update('Counter', 42 as never, { n: 2 }),
        'update(Counter): expected a document id or a query object, got 42',
      ],
      [
        () => rt.db.get('Counter', counter.$id, { forUpdate: true }),
        'get(Counter): forUpdate locks what it reads until a transaction ends, so it works inside db.transaction() only',
      ],
      [() => rt.db.find('Counter', {}, { forUpdate: true }), 'find(Counter): forUpdate locks'],
      [
        () => rt.db.delete('Counter', counter.$id, { ifVersion: Number.NaN }),
        'delete(Counter): ifVersion must be a whole number',
      ],
    ]
    for (const [refused, message] of refusals) await expect(refused()).rejects.toThrow(message)
    expect(await rt.db.get('Counter', counter.$id)).toEqual(counter)
    expect(await rt.store.eventsAfter(['Counter.updated', 'Counter.deleted'], 0, 10)).toEqual([])
  })
  it('refuses $limit, $sort and the like on writes to many, which would drop them and write everything', async () => {
    const { rt } = await start()
    for (let i = 0; i < 5; i++) await rt.db.create('L', { i })
    await expect(rt.db.updateMany('L', { $limit: 1 }, { touched: true })).rejects.toThrow(
      'updateMany(L): $limit cannot narrow a write to many, which takes conditions only; find the documents first, then write them by id',
    )
    await expect(rt.db.deleteMany('L', { $limit: 2, $sort: { i: 1 } })).rejects.toThrow(
      'deleteMany(L): $limit, $sort cannot narrow a write to many',
    )
    await expect(rt.db.deleteMany('L', { where: { i: 1 }, limit: 1 })).rejects.toThrow('limit cannot narrow')
    expect(await rt.db.deleteMany('L', { where: { i: 1 } })).toBe(1)
    // A field named like an option is a condition like any other.
    expect(await rt.db.updateMany('L', { limit: 3 }, { touched: true })).toBe(0)
    expect(await rt.db.count('L', { touched: true })).toBe(0)
  })

  it('checks the options of create and upsert, and takes upserts of one match in turn whatever its order', async () => {
    const { rt } = await start()
    await expect(rt.db.create('U', { a: 1 }, { idempotencykey: 'x' } as never)).rejects.toThrow(
      'create(U): unknown option "idempotencykey" (did you mean "idempotencyKey"?); known options are idempotencyKey',
    )
    await expect(rt.db.upsert('U', { a: 1 }, { on: 'a' as never })).rejects.toThrow(
      'upsert(U): on must be a list of field names, such as [\'sku\'], got "a"',
    )
    await expect(rt.db.upsert('U', { a: 1 }, { onn: ['a'] } as never)).rejects.toThrow('unknown option "onn"')
    expect(await rt.db.count('U')).toBe(0)
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        rt.db.upsert('U', { email: 'a@b', name: 'x', i }, { on: i % 2 ? ['email', 'name'] : ['name', 'email'] }),
      ),
    )
    expect(await rt.db.count('U')).toBe(1)
  })

  it('compares a field with values of its own type only, on both stores alike', async () => {
    const { rt } = await start()
    await rt.db.create('S', { $id: 's', available: 3, code: '3' })
    expect(await rt.db.count('S', { 'available:gte': '1' })).toBe(0)
    expect(await rt.db.count('S', { available: { $lt: '100' } })).toBe(0)
    expect(await rt.db.count('S', { 'available:gte': 1 })).toBe(1)
    expect(await rt.db.count('S', { code: { $gt: 2 } })).toBe(0)
    expect(await rt.db.count('S', { code: { $gt: '2' } })).toBe(1)
    expect(await rt.db.update('S', 's', { $inc: { available: -1 } }, { where: { 'available:gte': '1' } })).toBeNull()
  })

  it('takes field names in any script', async () => {
    const { rt } = await start()
    const doc = await rt.db.create('Measure', { größe: 1, 名前: 'x' })
    expect(await rt.db.update('Measure', doc.$id, { $inc: { größe: 1 } })).toMatchObject({ größe: 2 })
    expect(await rt.db.count('Measure', { 名前: 'x', 'größe:gte': 2 })).toBe(1)
  })

  it('uses a declared collection by its own name, however it is spelt, with its schema and owner', async () => {
    const { rt } = await start(() => {
      const orders = $.db.collection('Orders', { schema: z.object({ total: z.number() }) })
      $.service({
        name: 'Shop',
        data: { orders },
        operations: { add: (o: { total: unknown }) => orders.create(o as never) },
      })
      on($.Peek.now, () => db.collection('Orders').create({ total: 1 }))
    })
    await expect(rt.db.collection('Orders').create({ total: 'lots' })).rejects.toThrow(
      'Orders document: total must be a number',
    )
    expect(await rt.send($.Shop.add, { total: 2 })).toMatchObject({ $type: 'Orders', total: 2 })
    await rt.send($.Peek.now, {})
    await rt.drain()
    expect((await rt.dlq.list())[0]?.error.message).toMatch(/collection "Orders" belongs to Shop/)
    expect(await rt.db.count('Orders')).toBe(1)
  })

  it('in a run, replays a write that failed and was caught as the same failure, so the writes after it keep their results', async () => {
    let attempts = 0
    let bumped = false
    const { rt, clock } = await start(() => {
      on($.Tally.raised, async () => {
        attempts++
        for (;;) {
          const tally = await db.get<{ n: number }>('Tally', 't')
          // Someone else writes between this read and the write below, the first time.
          if (!bumped) {
            bumped = true
            await rt.db.update('Tally', 't', { other: 1 })
          }
          try {
            await db.update('Tally', 't', { n: (tally?.n ?? 0) + 1 }, { ifVersion: tally?.$version ?? 0 })
            break
          } catch (error) {
            if (!isConflictError(error)) throw error
          }
        }
        if (attempts === 1) throw new Error('something later failed')
      })
    })
    await rt.db.create('Tally', { $id: 't', n: 0 })
    await rt.send($.Tally.raised, {})
    await rt.drain()
    await clock.advance('10s')
    await rt.drain()
    expect(attempts).toBe(2)
    expect(await rt.db.get('Tally', 't')).toMatchObject({ n: 1 })
    const [run] = await rt.runs.list({ kind: 'handler' })
    expect(run?.status).toBe('completed')
  })

  it('in a run, tries again a failed write that failed the run (it is not replayed as a failure)', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      on($.Tally.raised, async () => {
        attempts++
        const tally = await db.get<{ n: number }>('Tally', 't')
        // Someone else writes between this read and the write below, the first time: the
        // conflict fails the attempt, and the next one reads again.
        if (attempts === 1) await rt.db.update('Tally', 't', { other: 1 })
        await db.update('Tally', 't', { n: (tally?.n ?? 0) + 1 }, { ifVersion: tally?.$version ?? 0 })
      })
    })
    await rt.db.create('Tally', { $id: 't', n: 0 })
    await rt.send($.Tally.raised, {})
    await rt.drain()
    await clock.advance('10s')
    await rt.drain()
    expect(attempts).toBe(2)
    expect(await rt.db.get('Tally', 't')).toMatchObject({ n: 1, $version: 3 })
    const [run] = await rt.runs.list({ kind: 'handler' })
    expect(run?.status).toBe('completed')
  })
  it('in a run, keeps each branch’s write its own when branches reach their writes in another order on a retry', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      on($.Pair.bumped, async () => {
        attempts++
        await Promise.all([
          (async () => {
            await step('slow', () => new Promise((resolve) => setTimeout(resolve, 50)))
            if (attempts === 1) throw new Error('the slow branch fails once, after the fast one wrote')
            await db.update('Pair', 'p', { $inc: { a: 1 } })
          })(),
          (async () => {
            await step('fast', () => 'done')
            await db.update('Pair', 'p', { $inc: { b: 1 } })
          })(),
        ])
      })
    })
    await rt.db.create('Pair', { $id: 'p', a: 0, b: 0 })
    await rt.send($.Pair.bumped, {})
    await rt.drain()
    await clock.advance('10s')
    await rt.drain()
    expect(attempts).toBe(2)
    // On the retry both steps answer at once, so the slow branch writes first this time.
    expect(await rt.db.get('Pair', 'p')).toMatchObject({ a: 1, b: 1 })
  })
})
