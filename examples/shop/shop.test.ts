import { createRuntime, jsonLogger, load, type Runtime, type VirtualClock, virtualClock } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { $, type BusinessDefinition, describe } from '@bac/sdk'
import { afterEach, beforeAll, beforeEach, expect, it, describe as suite } from 'vitest'
import { announcePostgresSkip, testStores } from '../../packages/runtime/src/store/test-stores.fixture.ts'
import type { OrderCounts } from './analytics.ts'
import type { Order } from './events.ts'

let business: BusinessDefinition
beforeAll(async () => {
  business = await load(new URL('.', import.meta.url).pathname)
})

suite('the shop example', () => {
  it('loads into a definition that lists what it handles, sends, runs on schedule and offers', () => {
    const shop = describe(business)
    expect(shop.name).toBe('example-shop')
    expect(shop.handlers.map((h) => [h.name, h.events, h.sends])).toEqual([
      ['placeOrder', ['Order.created'], ['Order.rejected', 'Order.confirmed', 'Order.failed']],
      ['failureEmail', ['Order.rejected', 'Order.failed'], ['Email.send']],
      ['countConfirmed', ['Order.confirmed'], []],
      ['countFailed', ['Order.failed'], []],
      ['countRejected', ['Order.rejected'], []],
      ['keepReport', ['Report.daily'], []],
    ])
    expect(shop.schedules.map((s) => [s.name, s.cron, s.sends])).toEqual([
      ['dailyReport', '0 18 * * *', ['Report.daily']],
    ])
    expect(shop.services.map((s) => [s.name, s.operations.map((o) => o.verb)])).toEqual([
      ['InventoryService', ['Inventory.reserve', 'Inventory.release', 'Inventory.restock']],
      ['PaymentService', ['Payment.process', 'Payment.refund']],
      ['ShippingService', ['Shipment.create', 'Shipment.cancel']],
      ['EmailService', ['Email.send']],
    ])
    expect(shop.sagas).toEqual([
      {
        name: 'place-order',
        steps: [
          { name: 'reserve-inventory', compensation: true },
          { name: 'charge-payment', compensation: true },
          { name: 'create-shipment', compensation: true },
          { name: 'send-confirmation', compensation: false },
        ],
        sends: [
          'Inventory.reserve',
          'Inventory.release',
          'Payment.process',
          'Payment.refund',
          'Shipment.create',
          'Shipment.cancel',
          'Email.send',
        ],
      },
    ])
    expect(shop.events.map((e) => e.name)).toEqual([
      'Order.created',
      'Order.rejected',
      'Order.confirmed',
      'Order.failed',
      'Report.daily',
    ])
    expect(shop.collections).toEqual([
      { name: 'stock', owner: 'InventoryService' },
      { name: 'payments', owner: 'PaymentService' },
      { name: 'shipments', owner: 'ShippingService' },
      { name: 'outbox', owner: 'EmailService' },
    ])
  })
})

suite('the shop, running', () => {
  let rt: Runtime
  let clock: VirtualClock

  beforeEach(async () => {
    clock = virtualClock('2026-06-01T10:00:00Z')
    rt = await createRuntime({
      business,
      store: sqlite({ file: ':memory:' }),
      clock,
      logger: jsonLogger({ level: 'silent' }),
    })
    await rt.start()
    await rt.send($.Inventory.restock, { sku: 'lamp', available: 10 })
    await rt.send($.Inventory.restock, { sku: 'desk', available: 5 })
  })
  afterEach(() => rt.stop())

  /** Two lamps at 40 to an address in the US, unless told otherwise. */
  const order = (id: string, changes: Partial<Order> = {}): Order => ({
    id,
    email: `${id}@example.com`,
    items: [{ sku: 'lamp', quantity: 2, price: 40 }],
    total: 80,
    shippingAddress: { street: '1 Main St', city: 'Springfield', country: 'US' },
    ...changes,
  })
  const place = async (o: Order) => {
    await rt.send($.Order.created, o)
    await rt.drain()
  }
  const available = async (sku: string) => (await rt.db.findOne<{ available: number }>('stock', { sku }))?.available
  const mail = async (to: string) =>
    (await rt.db.list<{ subject: string; body: string }>('outbox', { where: { to } })).map((m) => m.subject)
  const counts = () => rt.db.get<OrderCounts>('analytics', 'orders')

  it('places an order end to end: stock reserved, paid, shipped, confirmed by email, counted', async () => {
    await place(
      order('o1', {
        items: [
          { sku: 'lamp', quantity: 2, price: 40 },
          { sku: 'desk', quantity: 1, price: 250.5 },
          { sku: 'lamp', quantity: 1, price: 40 },
        ],
        total: 370.5,
      }),
    )

    expect(await rt.db.get('orders', 'o1')).toMatchObject({
      status: 'confirmed',
      total: 370.5,
      paymentId: 'pay-o1',
      shipmentId: 'ship-o1',
    })
    expect([await available('lamp'), await available('desk')]).toEqual([7, 4])
    expect(await rt.db.get('payments', 'pay-o1')).toMatchObject({ amount: 370.5, status: 'captured' })
    expect(await rt.db.get('shipments', 'ship-o1')).toMatchObject({
      status: 'booked',
      address: { city: 'Springfield', country: 'US' },
    })
    expect(await mail('o1@example.com')).toEqual(['Order confirmed'])
    expect(await counts()).toMatchObject({ confirmed: 1, failed: 0, rejected: 0, revenue: 370.5 })
    expect(await rt.runs.list({ kind: 'saga' })).toMatchObject([{ name: 'place-order', status: 'completed' }])
    expect(await rt.dlq.list()).toEqual([])
  })

  it('handles an order once, however often it is sent', async () => {
    await place(order('o1'))
    await place(order('o1'))
    expect(await available('lamp')).toBe(8)
    expect(await mail('o1@example.com')).toEqual(['Order confirmed'])
    expect(await counts()).toMatchObject({ confirmed: 1, revenue: 80 })
  })

  it('undoes an order whose card is declined: the stock is released and the customer told', async () => {
    await place(order('o2', { items: [{ sku: 'lamp', quantity: 3, price: 2000 }], total: 6000 }))

    expect(await rt.db.get('orders', 'o2')).toMatchObject({ status: 'failed' })
    expect((await rt.db.get<{ reason: string }>('orders', 'o2'))?.reason).toMatch(
      /step "charge-payment" \(CardDeclined: card declined for 6000 \(the limit is 5000\)\)/,
    )
    expect(await available('lamp')).toBe(10)
    expect(await rt.db.list('payments')).toEqual([])
    expect(await mail('o2@example.com')).toEqual(['Order not placed'])
    expect(await counts()).toMatchObject({ confirmed: 0, failed: 1, revenue: 0 })
    expect(await rt.runs.list({ kind: 'saga' })).toMatchObject([{ status: 'compensated' }])
    expect(await rt.dlq.list()).toEqual([])
  })

  it('undoes an order to a country it does not ship to: stock released, payment refunded', async () => {
    await place(order('o3', { shippingAddress: { street: '1 Nowhere Rd', city: 'Nowhere', country: 'XX' } }))

    expect(await rt.db.get<{ reason: string }>('orders', 'o3')).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('cannot ship to country XX'),
    })
    expect(await available('lamp')).toBe(10)
    expect(await rt.db.get('payments', 'pay-o3')).toMatchObject({ amount: 80, status: 'refunded' })
    expect(await rt.db.list('shipments')).toEqual([])
    expect(await mail('o3@example.com')).toEqual(['Order not placed'])
    expect(await counts()).toMatchObject({ failed: 1 })
    expect(await rt.dlq.list()).toEqual([])
  })

  it('rejects an order that breaks a rule, before reserving or charging anything', async () => {
    await place(order('o4', { total: 79 }))
    await place(order('o5', { items: [], total: 0 }))

    expect(await rt.db.get('orders', 'o4')).toMatchObject({
      status: 'rejected',
      reason: 'total 79 does not match the items, which come to 80',
    })
    expect(await rt.db.get('orders', 'o5')).toMatchObject({
      status: 'rejected',
      reason: 'an order needs at least one item',
    })
    expect(await rt.runs.list({ kind: 'saga' })).toEqual([])
    expect(await available('lamp')).toBe(10)
    expect(await mail('o4@example.com')).toEqual(['Order not placed'])
    expect(await counts()).toMatchObject({ confirmed: 0, failed: 0, rejected: 2 })

    // An order of the wrong shape is refused when sent, and never becomes an event.
    const wrong = await rt.send($.Order.created, order('o6', { email: 'not-an-email' })).catch((e: Error) => e.message)
    expect(wrong).toBe('Order.created payload: email must be a valid email, got "not-an-email"')
  })

  it('undoes an order whose confirmation bounces, and files the notice that bounced too as a dead letter', async () => {
    await place(order('o7', { email: 'eve@bounce.test' }))

    expect(await rt.db.get<{ reason: string }>('orders', 'o7')).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('mailbox does not exist: eve@bounce.test'),
    })
    expect(await available('lamp')).toBe(10)
    expect(await rt.db.get('payments', 'pay-o7')).toMatchObject({ status: 'refunded' })
    expect(await rt.db.get('shipments', 'ship-o7')).toMatchObject({ status: 'cancelled' })
    expect(await counts()).toMatchObject({ confirmed: 0, failed: 1 })

    const letters = await rt.dlq.list()
    expect(letters).toMatchObject([
      {
        kind: 'handler',
        name: 'failureEmail',
        payload: { order: { id: 'o7' } },
        error: { name: 'MailboxNotFound', message: 'mailbox does not exist: eve@bounce.test' },
        attempts: [expect.anything()], // one: not retried, the mailbox will not appear
      },
    ])

    // Replayed, it meets the same mailbox and comes back; a person discards it.
    await rt.dlq.replay(letters[0]?.id ?? '')
    await rt.drain()
    const again = await rt.dlq.list()
    expect(again).toMatchObject([{ name: 'failureEmail', runId: letters[0]?.runId }])
    await rt.dlq.discard(again[0]?.id ?? '')
    expect(await rt.dlq.list()).toEqual([])
  })

  it('reports the totals every day at 6pm', async () => {
    await place(order('o1'))
    await place(order('o2', { total: 1 }))
    await clock.advanceTo('2026-06-01T18:00:00Z')
    await rt.drain()

    expect(await rt.db.get('reports', '2026-06-01')).toMatchObject({
      date: '2026-06-01',
      confirmed: 1,
      failed: 0,
      rejected: 1,
      revenue: 80,
    })
  })
})

/**
 * The shop on two workers (two runtimes on one store: a SQLite file, and PostgreSQL when
 * BAC_TEST_POSTGRES_URL is set), with more orders than stock arriving at once. Reservations are
 * conditional updates, so exactly as many orders are confirmed as there are lamps; the others
 * are compensated, and the stock never goes below zero — every change to it is a `stock.updated`
 * event carrying the document as written, so the test sees each level it ever had.
 */
suite.each(testStores)('the shop on two workers ($name)', ({ shared }) => {
  let workers: Runtime[] = []
  beforeAll(announcePostgresSkip)
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()))
    workers = []
  })

  it('confirms exactly 5 of 20 concurrent one-lamp orders for 5 lamps, compensates the rest, never oversells', async () => {
    const open = await shared()
    workers = await Promise.all(
      [1, 2].map(() =>
        createRuntime({ business, store: open(), concurrency: 16, logger: jsonLogger({ level: 'silent' }) }),
      ),
    )
    for (const worker of workers) await worker.start()
    const [a, b] = workers as [Runtime, Runtime]
    await a.send($.Inventory.restock, { sku: 'lamp', available: 5 })
    const orders = Array.from({ length: 20 }, (_, n) => ({
      id: `o${n}`,
      email: `o${n}@example.com`,
      items: [{ sku: 'lamp', quantity: 1, price: 40 }],
      total: 40,
      shippingAddress: { street: '1 Main St', city: 'Springfield', country: 'US' },
    }))
    await Promise.all(orders.map((o, n) => (n % 2 ? a : b).send($.Order.created, o)))
    const outcomes = async () => {
      const counts = await a.db.get<OrderCounts>('analytics', 'orders')
      return (counts?.confirmed ?? 0) + (counts?.failed ?? 0)
    }
    const deadline = Date.now() + 60_000
    while ((await outcomes()) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))

    expect(await a.db.get('analytics', 'orders')).toMatchObject({ confirmed: 5, failed: 15, revenue: 200 })
    expect(await a.db.count('orders', { status: 'confirmed' })).toBe(5)
    const failed = await a.db.find<{ reason: string }>('orders', { status: 'failed' })
    expect(failed).toHaveLength(15)
    expect(failed.every((o) => o.reason.includes('out of stock: lamp (0 available, 1 wanted)'))).toBe(true)
    expect(await a.db.findOne('stock', { sku: 'lamp' })).toMatchObject({ available: 0 })
    const levels = (await a.store.eventsAfter(['stock.updated'], 0, 1000)).map(
      (e) => (e.payload as { available: number }).available,
    )
    expect(levels).toHaveLength(5)
    expect(Math.min(...levels)).toBe(0)
    const sagas = await a.runs.list({ kind: 'saga', limit: 100 })
    expect(sagas.filter((s) => s.status === 'completed')).toHaveLength(5)
    expect(sagas.filter((s) => s.status === 'compensated')).toHaveLength(15)
    expect(await a.dlq.list()).toEqual([])
  }, 90_000)
})
