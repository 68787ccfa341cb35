/** The `db` contract, on SQLite and (with BAC_TEST_POSTGRES_URL) PostgreSQL. */
import { $, db, events, isValidationError, on, send, step } from '@bac/sdk'
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { announcePostgresSkip, testStores } from '../store/test-stores.fixture.ts'
import { testRuntimes } from '../test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('db on $name', ({ make }) => {
  const start = testRuntimes(make)

  it('creates, reads, updates, upserts and deletes documents with $id, $type and timestamps', async () => {
    const { rt, clock } = await start()
    const lamp = await rt.db.create('Product', { name: 'Lamp', price: 40, tags: ['light'] })
    expect(lamp).toMatchObject({ name: 'Lamp', price: 40, $type: 'Product', $id: expect.any(String) })
    expect(lamp.$createdAt).toBe(new Date(clock.now()).toISOString())
    await clock.advance('1s')
    const cheaper = await rt.db.update($.Product, lamp.$id, { price: 35, $inc: { sold: 2 }, $push: { tags: 'sale' } })
    expect(cheaper).toMatchObject({ name: 'Lamp', price: 35, sold: 2, tags: ['light', 'sale'] })
    expect(cheaper.$updatedAt > cheaper.$createdAt).toBe(true)
    expect(await rt.db.get('$.Product', lamp.$id)).toEqual(cheaper)
    const byQuery = await rt.db.update('Product', { name: 'Lamp' }, { $unset: { tags: 1 } })
    expect('tags' in byQuery).toBe(false)
    const upserted = await rt.db.upsert('Product', { sku: 'desk-1', name: 'Desk' }, { on: ['sku'] })
    const again = await rt.db.upsert('Product', { sku: 'desk-1', price: 200 }, { on: ['sku'] })
    expect(again).toMatchObject({ $id: upserted.$id, name: 'Desk', price: 200 })
    const explicit = await rt.db.upsert('Order', { $id: 'o-1', total: 5 })
    expect(explicit.$id).toBe('o-1')
    expect(await rt.db.delete('Product', lamp.$id)).toBe(true)
    expect(await rt.db.delete('Product', lamp.$id)).toBe(false)
    expect(await rt.db.get('Product', lamp.$id)).toBeNull()
    await expect(rt.db.update('Product', 'missing', { price: 1 })).rejects.toThrow(
      'update(Product): no document "missing"',
    )
  })

  it('refuses a delete of many without a query, and an update operator without fields, changing nothing', async () => {
    const { rt } = await start()
    const lamp = await rt.db.create('Product', { name: 'Lamp', price: 40 })
    await expect(rt.db.deleteMany('Product', undefined as never)).rejects.toThrow(
      'deleteMany(Product): query must be an object of conditions ({} deletes every document), got undefined',
    )
    await expect(rt.db.update('Product', lamp.$id, { $set: 5 })).rejects.toThrow(
      '$set takes an object of fields, such as { $set: { stock: 3 } }, got 5',
    )
    expect(await rt.db.get('Product', lamp.$id)).toEqual(lamp)
    expect(await rt.db.deleteMany('Product', {})).toBe(1)
  })

  it('offers the same through db.Products, $.Product, collections and the ambient db', async () => {
    const { rt } = await start()
    const made = await rt.run(async () => {
      const a = await db.Products.create({ name: 'Lamp' })
      const b = await $.Product.create({ name: 'Desk' })
      const c = await db.collection('Products').create({ name: 'Chair' })
      await db.collection('audit_log').create({ what: 'created three' })
      return [a, b, c]
    })
    expect(made.map((d) => d.$type)).toEqual(['Product', 'Product', 'Product'])
    expect(await rt.run(() => db.Products.count())).toBe(3)
    expect(await rt.run(() => $.Product.find({ name: 'Desk' }))).toHaveLength(1)
    expect((await rt.db.list('audit_log'))[0]).toMatchObject({ $type: 'audit_log', what: 'created three' })
  })

  it('queries with operators, suffixes, nested paths, $and/$or, sort, skip, limit and select — in SQL', async () => {
    const { rt } = await start()
    const alice = await rt.db.create('Customer', { email: 'alice@example.com', tier: 'gold' })
    const items = [
      { name: 'Lamp', price: 40, stock: 5, customer: { $id: alice.$id }, tags: ['light'] },
      { name: 'Desk', price: 200, stock: 1, customer: { $id: 'bob' }, discontinued: false },
      { name: 'Chair', price: 80, stock: 0, customer: { $id: alice.$id }, note: null },
      { name: 'Lamp Pro', price: 120, stock: 12, customer: { $id: 'carol' } },
    ]
    for (const item of items) await rt.db.create('Product', item)
    const names = async (query: Record<string, unknown>, options = {}) =>
      (await rt?.db.query('Product', query, options))?.map((p) => p.name as string)

    expect(await names({ price: { $gt: 50, $lte: 120 } }, { sort: { price: 1 } })).toEqual(['Chair', 'Lamp Pro'])
    expect(await names({ 'stock:gte': 5 }, { sort: { stock: -1 } })).toEqual(['Lamp Pro', 'Lamp'])
    expect(await names({ 'customer.$id': alice.$id }, { sort: { name: 1 } })).toEqual(['Chair', 'Lamp'])
    expect(await names({ name: { $in: ['Desk', 'Chair'] } }, { sort: { name: 1 } })).toEqual(['Chair', 'Desk'])
    expect(await names({ name: { $nin: ['Desk', 'Chair'] } }, { sort: { name: 1 } })).toEqual(['Lamp', 'Lamp Pro'])
    expect(await names({ name: { $ne: 'Desk' }, price: { $lt: 100 } }, { sort: { name: 1 } })).toEqual([
      'Chair',
      'Lamp',
    ])
    expect(await names({ discontinued: { $exists: true } })).toEqual(['Desk'])
    expect(await names({ note: { $exists: true } })).toEqual(['Chair'])
    await expect(names({ note: { $exists: 'yes' } })).rejects.toThrow('$exists needs true or false')
    expect(await names({ note: null }, { sort: { name: 1 } })).toEqual(['Chair', 'Desk', 'Lamp', 'Lamp Pro'])
    expect(await names({ discontinued: false })).toEqual(['Desk'])
    expect(await names({ name: { $regex: '^lamp', $options: 'i' } }, { sort: { price: 1 } })).toEqual([
      'Lamp',
      'Lamp Pro',
    ])
    expect(await names({ $or: [{ price: { $lt: 50 } }, { stock: 0 }] }, { sort: { name: 1 } })).toEqual([
      'Chair',
      'Lamp',
    ])
    expect(
      await names({ $and: [{ price: { $gt: 50 } }, { $or: [{ stock: 1 }, { stock: 12 }] }] }, { sort: { name: 1 } }),
    ).toEqual(['Desk', 'Lamp Pro'])
    expect(await names({ $sort: { price: -1 }, $skip: 1, $limit: 2 })).toEqual(['Lamp Pro', 'Chair'])
    const selected = await rt.db.query('Product', { name: 'Desk' }, { select: ['price'] })
    expect(selected).toEqual([{ price: 200, $id: expect.any(String), $type: 'Product' }])
    const listed = await rt.db.list('Product', { where: { 'price:lt': 100 }, orderBy: { price: 'desc' } } as never)
    expect(listed.map((p) => p.name)).toEqual(['Chair', 'Lamp'])
    expect(await rt.db.findOne('Product', { price: 200 })).toMatchObject({ name: 'Desk' })
    expect(await rt.db.count('Product', { 'customer.$id': alice.$id })).toBe(2)
    expect(await rt.db.count('Product')).toBe(4)
  })

  it('pages with cursors that stay stable while documents are added', async () => {
    const { rt, clock } = await start()
    for (let i = 0; i < 7; i++) {
      await rt.db.create('Ticket', { n: i })
      await clock.advance(1)
    }
    const first = await rt.db.page('Ticket', {}, { limit: 3 })
    expect(first.data.map((t) => t.n)).toEqual([0, 1, 2])
    expect(first.hasMore).toBe(true)
    await rt.db.create('Ticket', { n: 99 })
    const second = await rt.db.page('Ticket', {}, { limit: 3, cursor: first.nextCursor as string })
    expect(second.data.map((t) => t.n)).toEqual([3, 4, 5])
    const third = await rt.db.page('Ticket', {}, { limit: 3, cursor: second.nextCursor as string })
    expect(third).toMatchObject({ hasMore: false })
    expect(third.data.map((t) => t.n)).toEqual([6, 99])
    expect(third.nextCursor).toBeUndefined()
    const byN = await rt.db.page('Ticket', { n: { $lt: 50 } }, { sort: { n: -1 }, limit: 4 })
    const rest = await rt.db.page(
      'Ticket',
      { n: { $lt: 50 } },
      { sort: { n: -1 }, limit: 4, cursor: byN.nextCursor as string },
    )
    expect([...byN.data, ...rest.data].map((t) => t.n)).toEqual([6, 5, 4, 3, 2, 1, 0])
    await expect(rt.db.page('Ticket', {}, { cursor: 'garbage' })).rejects.toThrow(
      'page(): cursor "garbage" is not one this db gave out',
    )
  })

  it('aggregates with $match and $group', async () => {
    const { rt } = await start()
    for (const [status, total] of [
      ['paid', 10],
      ['paid', 30],
      ['open', 5],
      ['void', 100],
    ] as const)
      await rt.db.create('Order', { status, total })
    const rows = await rt.db.aggregate('Order', [
      { $match: { status: { $ne: 'void' } } },
      {
        $group: {
          _id: '$status',
          revenue: { $sum: '$total' },
          average: { $avg: '$total' },
          n: { $count: {} },
          low: { $min: '$total' },
          high: { $max: '$total' },
        },
      },
      { $sort: { revenue: -1 } },
    ])
    expect(rows).toEqual([
      { _id: 'paid', revenue: 40, average: 20, n: 2, low: 10, high: 30 },
      { _id: 'open', revenue: 5, average: 5, n: 1, low: 5, high: 5 },
    ])
    const [all] = await rt.db.aggregate('Order', [{ $group: { _id: null, orders: { $sum: 1 } } }])
    expect(all).toEqual({ _id: null, orders: 4 })
  })

  it('enforces unique indexes with an error naming the field and value, and uses indexes in query plans', async () => {
    const { rt } = await start()
    await rt.db.createIndex('Customer', ['email'], { unique: true })
    await rt.db.createIndex('Order', ['customer.$id', 'placedAt'])
    await rt.db.create('Customer', { email: 'ann@example.com' })
    await rt.db.create('Lead', { email: 'ann@example.com' })
    const error = await rt.db.create('Customer', { email: 'ann@example.com' }).catch((e: Error) => e)
    expect(error).toMatchObject({
      code: 'BAC_UNIQUE',
      message: 'Customer.email must be unique: "ann@example.com" is already used by another Customer',
    })
    expect(await rt.db.count('Customer')).toBe(1)
    const plan = await rt.store.documents.explain('Order', {
      op: 'and',
      filters: [{ op: 'compare', field: { kind: 'path', path: ['customer', '$id'] }, compare: '=', value: 'c1' }],
    })
    expect(plan).toMatch(/bac_doc_[0-9a-f]{20}/)
  })

  it('relates documents and finds them from either end', async () => {
    const { rt } = await start()
    const lamp = await rt.db.create('Product', { name: 'Lamp' })
    const desk = await rt.db.create('Product', { name: 'Desk' })
    const lighting = await rt.db.create('Category', { name: 'Lighting' })
    await rt.db.relate(lamp.$id, $.belongsTo, lighting.$id)
    await rt.db.relate(desk, $.belongsTo, lighting)
    expect((await rt.db.related(lamp, $.belongsTo, $.Category)).map((c) => c.name)).toEqual(['Lighting'])
    expect((await rt.db.related(lighting, $.belongsTo, $.Product)).map((p) => p.name).sort()).toEqual(['Desk', 'Lamp'])
    await rt.db.unrelate(desk, $.belongsTo, lighting)
    expect((await rt.db.related(lighting.$id, '$.belongsTo', 'Product')).map((p) => p.name)).toEqual(['Lamp'])
    await expect(rt.db.relate('nope', $.belongsTo, lighting)).rejects.toThrow(
      'relate(): there is no document with id "nope"',
    )
  })

  it('searches full text, ranked', async () => {
    const { rt } = await start()
    await rt.db.create('Product', { name: 'Brass desk lamp', description: 'A warm lamp for reading' })
    await rt.db.create('Product', { name: 'Oak desk', description: 'Solid wood' })
    await rt.db.create('Product', { name: 'Floor lamp', description: 'Tall' })
    await rt.db.create('Article', { title: 'Lamps through history' })
    const lamps = await rt.db.search('Product', { query: 'lamps', limit: 5 })
    expect(lamps.map((p) => p.name).sort()).toEqual(['Brass desk lamp', 'Floor lamp'])
    const hits = await rt.db.search($.Product, { query: 'reading lamp?!', limit: 1 })
    expect(hits.map((p) => p.name)).toEqual(['Brass desk lamp'])
    expect(await rt.db.search('Product', { query: '"; DROP TABLE bac_documents; --' })).toEqual([])
  })

  it('streams documents in batches and writes batches in one transaction', async () => {
    const { rt } = await start()
    const created = await rt.db.batchCreate(
      'Item',
      Array.from({ length: 1200 }, (_, n) => ({ n })),
    )
    expect(created).toHaveLength(1200)
    let seen = 0
    let sum = 0
    for await (const item of rt.db.stream('Item', { n: { $gte: 100 } })) {
      seen++
      sum += item.n as number
    }
    expect(seen).toBe(1100)
    expect(sum).toBe((100 + 1199) * 550)
    expect(
      await rt.db.batchUpdate('Item', [
        { id: created[0]?.$id ?? '', patch: { n: -1 } },
        { id: created[1]?.$id ?? '', patch: { n: -2 } },
      ]),
    ).toBe(2)
    expect(await rt.db.deleteMany('Item', { n: { $lt: 0 } })).toBe(2)
    expect(await rt.db.count('Item')).toBe(1198)
    await rt.db.createIndex('Item', ['n'], { unique: true })
    const failed = await rt.db.batchCreate('Item', [{ n: 5000 }, { n: 5 }]).catch((e: Error) => e)
    expect((failed as Error).message).toMatch(/Item.n must be unique: 5 is already used/)
    expect(await rt.db.count('Item', { n: 5000 })).toBe(0)
  })

  it('creates once for a client idempotency key', async () => {
    const { rt } = await start()
    const first = await rt.db.create('Resource', { name: 'a' }, { idempotencyKey: 'req-1' })
    const second = await rt.db.create('Resource', { name: 'b' }, { idempotencyKey: 'req-1' })
    expect(second).toEqual(first)
    expect(await rt.db.count('Resource')).toBe(1)
    await expect(rt.db.create('Resource', { name: 'c' }, { idempotencyKey: '' })).rejects.toThrow(
      'idempotencyKey must be a non-empty string, got an empty string',
    )
    expect(await rt.db.count('Resource')).toBe(1)
  })

  it('emits change events with every committed write, and none for a rolled-back one', async () => {
    const seen: string[] = []
    const { rt } = await start(() => {
      on('Product.*', (doc: { name?: string; $id: string }, ctx) => {
        seen.push(`${ctx.run?.name} ${doc.name ?? doc.$id}`)
      })
      on($.Product.created, function created(doc: { name: string }) {
        seen.push(`created ${doc.name}`)
      })
      $.service({ name: 'Audit', data: { entries: $.db.collection('entries', { events: false }) }, operations: {} })
      on('entries.*', () => {
        seen.push('never')
      })
    })
    const lamp = await rt.db.create('Product', { name: 'Lamp' })
    await rt.db.update('Product', lamp.$id, { name: 'Lamp 2' })
    await rt.db.delete('Product', lamp.$id)
    await rt.db.createIndex('Product', ['name'], { unique: true })
    await rt.db.create('Product', { name: 'Desk' })
    await rt.db.batchCreate('Product', [{ name: 'Chair' }, { name: 'Desk' }]).catch(() => {})
    await rt.db.create('entries', { what: 'quiet' })
    await rt.drain()
    expect(seen.sort()).toEqual(
      [
        'Product.* Lamp',
        'Product.* Lamp 2',
        `Product.* ${lamp.$id}`,
        'created Lamp',
        'Product.* Desk',
        'created Desk',
      ].sort(),
    )
  })

  it('announces a created document once, even when code sends its created event too (the seeds’ pattern)', async () => {
    const seen: unknown[] = []
    const { rt } = await start(() => {
      events({ Order: { created: z.object({ total: z.number() }) } })
      on($.Order.created, (order: { $id: string; total: number }) => {
        seen.push([order.$id, order.total])
      })
      on($.Checkout.done, async ({ total }: { total: number }) => {
        const order = await db.create('Order', { total })
        await send($.Order.created, order)
      })
    })
    await rt.send($.Checkout.done, { total: 30 })
    const outside = await rt.db.create('Order', { total: 40 })
    await rt.send($.Order.created, outside)
    await rt.drain()
    // One run each, and the event carries the document ($id kept, though its schema knows no $id).
    expect(seen).toEqual(
      expect.arrayContaining([
        [outside.$id, 40],
        [expect.any(String), 30],
      ]),
    )
    expect(seen).toHaveLength(2)
    // An Order.created that is not a document's is an event like any other, checked by its schema.
    await expect(rt.send($.Order.created, { total: 'ten' })).rejects.toThrow(
      'Order.created payload: total must be a number',
    )
  })

  it('inside a run: a retried run does not write twice', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      on($.Signup.started, async (signup: { email: string }) => {
        const user = await db.create('User', { email: signup.email })
        await db.update('User', user.$id, { $inc: { logins: 1 } })
        await step('welcome', () => 'sent')
        if (++attempts === 1) throw new Error('after the writes')
        return user.$id
      })
    })
    await rt.send($.Signup.started, { email: 'ann@example.com' })
    await rt.drain()
    await clock.advance('1s')
    await rt.drain()
    const users = await rt.db.list('User')
    expect(users).toHaveLength(1)
    expect(users[0]).toMatchObject({ email: 'ann@example.com', logins: 1 })
    expect(attempts).toBe(2)
  })

  it('keeps a service’s collections to its own code', async () => {
    const { rt } = await start(() => {
      const stock = $.db.collection('stock')
      $.service({
        name: 'InventoryService',
        data: { stock },
        operations: {
          restock: async ({ sku, n }: { sku: string; n: number }) =>
            (await stock.upsert({ sku, n }, { on: ['sku'] })).n,
        },
      })
      on($.Order.placed, async () => db.collection('stock').find())
    })
    expect(await rt.send($.Inventory.restock, { sku: 'lamp', n: 3 })).toBe(3)
    await rt.send($.Order.placed, {})
    await rt.drain()
    const [letter] = await rt.dlq.list()
    expect(letter?.error.message).toBe(
      'collection "stock" belongs to InventoryService; reach it through its operations (Inventory.restock)',
    )
  })

  it('validates typed collections against their schema', async () => {
    const { rt } = await start(() => {
      $.service({
        name: 'Accounts',
        data: {
          users: $.db.collection('users', { schema: z.object({ email: z.email(), age: z.number().int().optional() }) }),
        },
        operations: {
          register: (input: { email: string; age?: unknown }) => db.collection('users').create(input),
        },
      })
    })
    expect(await rt.send($.Accounts.register, { email: 'a@b.co' })).toMatchObject({ email: 'a@b.co' })
    const bad = await rt.send($.Accounts.register, { email: 'nope', age: 1.5 }).catch((e: unknown) => e)
    expect(isValidationError(bad) || (bad as Error).name === 'ValidationError').toBe(true)
    expect((bad as Error).message).toBe(
      'users document: email must be a valid email, got "nope"; age must be an integer, got 1.5',
    )
  })

  it('validates a collection declared outside any service too, and lets a service own it later', async () => {
    const { rt } = await start(() => {
      const people = $.db.collection('people', { schema: z.object({ email: z.email() }) })
      $.db.collection('notes', { schema: z.object({ text: z.string() }) })
      $.service({ name: 'Directory', data: { people }, operations: { add: (p: unknown) => people.create(p as never) } })
    })
    const bad = await rt.db.create('notes', { text: 5 }).catch((e: unknown) => e)
    expect((bad as Error).message).toBe('notes document: text must be a string, got 5')
    expect(await rt.db.count('notes')).toBe(0)
    await expect(rt.send($.Directory.add, { email: 'nope' })).rejects.toThrow(
      'people document: email must be a valid email',
    )
    expect(await rt.send($.Directory.add, { email: 'ann@example.com' })).toMatchObject({ email: 'ann@example.com' })
    expect(rt.business.collections.filter((c) => c.name === 'people')).toEqual([
      expect.objectContaining({ owner: 'Directory' }),
    ])
  })

  it('includes referenced documents', async () => {
    const { rt } = await start()
    const ann = await rt.db.create('Customer', { name: 'Ann' })
    const lamp = await rt.db.create('Product', { name: 'Lamp' })
    const order = await rt.db.create('Order', {
      customer: { $id: ann.$id, $type: 'Customer' },
      items: [{ $id: lamp.$id, $type: 'Product' }],
    })
    const full = await rt.db.get('Order', order.$id, { include: ['customer', 'items'] })
    expect(full).toMatchObject({ customer: { name: 'Ann' }, items: [{ name: 'Lamp' }] })
  })

  it('is not fooled by SQL in field names or values', async () => {
    const { rt } = await start()
    await rt.db.create('Secret', { name: 'keep me' })
    const field = await rt.db.query('Secret', { "name') OR 1=1 --": 'x' }).catch((e: Error) => e)
    expect((field as Error).message).toMatch(/query: field name must be dotted names of letters, digits, _, - and \$/)
    expect(await rt.db.query('Secret', { name: "' OR '1'='1" })).toEqual([])
    expect(await rt.db.query('Secret', { name: { $regex: "^x' OR '1'='1; DROP TABLE bac_documents; --" } })).toEqual([])
    await expect(rt.db.create("Secret'; DROP TABLE x; --", {})).rejects.toThrow(/db: a type is a name of letters/)
    expect(await rt.db.count('Secret')).toBe(1)
  })
})
