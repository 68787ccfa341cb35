import { createRuntime, jsonLogger, load, virtualClock } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { $, describe } from '@bac/sdk'
import { expect, it, describe as suite } from 'vitest'

suite('the shop example', () => {
  it('loads into a definition that lists what it handles, sends, runs on schedule and offers', async () => {
    const shop = describe(await load(new URL('.', import.meta.url).pathname))
    expect(shop.name).toBe('example-shop')
    expect(shop.handlers.map((h) => [h.name, h.events, h.sends])).toEqual([
      ['placeOrder', ['Order.placed'], []],
      ['confirmationEmail', ['Order.confirmed'], ['Email.send']],
      ['failureEmail', ['Order.failed'], ['Email.send']],
    ])
    expect(shop.schedules.map((s) => [s.name, s.cron, s.sends])).toEqual([
      ['dailyReport', '0 18 * * *', ['Report.daily']],
    ])
    expect(shop.services.map((s) => [s.name, s.operations.map((o) => o.verb)])).toEqual([
      ['InventoryService', ['Inventory.reserve', 'Inventory.release', 'Inventory.restock']],
      ['PaymentService', ['Payment.process', 'Payment.refund']],
      ['EmailService', ['Email.send']],
    ])
    expect(shop.sagas).toEqual([
      {
        name: 'place-order',
        steps: [
          { name: 'reserve-inventory', compensation: true },
          { name: 'charge-payment', compensation: true },
        ],
        sends: ['Inventory.reserve', 'Inventory.release', 'Payment.process', 'Payment.refund'],
      },
    ])
    expect(shop.events.map((e) => e.name)).toEqual(['Order.placed', 'Order.confirmed', 'Order.failed'])
    expect(shop.collections).toEqual([
      { name: 'stock', owner: 'InventoryService' },
      { name: 'outbox', owner: 'EmailService' },
    ])
  })
})

suite('the shop, running', () => {
  it('places an order end to end, and undoes one whose payment is declined', async () => {
    const rt = await createRuntime({
      business: await load(new URL('.', import.meta.url).pathname),
      store: sqlite({ file: ':memory:' }),
      clock: virtualClock('2026-06-01T10:00:00Z'),
      logger: jsonLogger({ level: 'silent' }),
    })
    await rt.start()
    try {
      await rt.send($.Inventory.restock, { sku: 'lamp', available: 10 })
      const order = { id: 'o1', email: 'ann@example.com', items: [{ sku: 'lamp', quantity: 2, price: 40 }], total: 80 }
      await rt.send($.Order.placed, order)
      await rt.drain()
      expect(await rt.db.get('Order', 'o1')).toMatchObject({ status: 'confirmed', total: 80 })
      expect(await rt.db.findOne('stock', { sku: 'lamp' })).toMatchObject({ available: 8 })
      expect((await rt.db.list('outbox')).map((m) => [m.to, m.subject])).toEqual([
        ['ann@example.com', 'Order confirmed'],
      ])

      const big = {
        id: 'o2',
        email: 'bob@example.com',
        items: [{ sku: 'lamp', quantity: 3, price: 2000 }],
        total: 6000,
      }
      await rt.send($.Order.placed, big)
      await rt.drain()
      expect(await rt.db.get('Order', 'o2')).toMatchObject({ status: 'failed' })
      expect(await rt.db.findOne('stock', { sku: 'lamp' })).toMatchObject({ available: 8 })
      const failure = (await rt.db.list('outbox', { where: { to: 'bob@example.com' } })) as {
        subject?: string
        body?: string
      }[]
      expect(failure[0]).toMatchObject({ subject: 'Order not placed' })
      expect(failure[0]?.body).toMatch(/card declined for 6000/)
      expect(await rt.dlq.list()).toEqual([])

      const bad = await rt
        .send($.Order.placed, { ...order, id: 'o3', email: 'not-an-email' })
        .catch((e: Error) => e.message)
      expect(bad).toBe('Order.placed payload: email must be a valid email, got "not-an-email"')
    } finally {
      await rt.stop()
    }
  })
})
