import { load } from '@bac/runtime'
import { describe } from '@bac/sdk'
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
