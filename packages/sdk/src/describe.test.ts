import { expect, it, describe as suite } from 'vitest'
import { z } from 'zod'
import { $, business, describe, events, every, on, send } from './index.ts'

suite('describe()', () => {
  it('lists handlers, schedules, services with contracts, sagas, compositions, agents and events', () => {
    const definition = business('shop', () => {
      events({ Order: { created: z.object({ id: z.string(), total: z.number() }) } })
      on($.Order.created, async function confirm(order: { id: string }) {
        await send($.Email.send, { orderId: order.id })
      })
      every('Monday at 9am', function weeklyReport() {})
      const Email = $.service({
        name: 'EmailService',
        version: '1.0.0',
        operations: {
          send: {
            input: { to: { type: 'string', format: 'email', required: true } },
            output: z.object({ messageId: z.string() }),
            handler: async () => ({ messageId: 'm' }),
          },
        },
        endpoints: { 'POST /emails': () => null },
        data: { outbox: $.db.collection('outbox') },
      })
      $.saga({
        name: 'order',
        steps: [{ name: 'notify', action: () => Email.send({ to: 'a@b.co' }), compensation: () => {} }],
      })
      $.compose([Email], { name: 'mail-flow' })
      $.agent({ name: 'helper', instructions: 'Help.', tools: ['db.search'] })
    })
    const listing = describe(definition, new Date('2026-11-21T12:00:00Z'))
    expect(listing.handlers).toEqual([
      {
        name: 'confirm',
        events: ['Order.created'],
        sends: ['Email.send'],
        source: expect.stringMatching(/describe\.test\.ts:\d+:\d+$/),
      },
    ])
    expect(listing.schedules).toEqual([
      {
        name: 'weeklyReport',
        cron: '0 9 * * 1',
        description: 'Monday at 9am',
        next: expect.stringMatching(/^2026-11-23T\d\d:00:00\.000Z$/),
        sends: [],
      },
    ])
    expect(listing.services).toEqual([
      {
        name: 'EmailService',
        key: 'EmailService',
        subject: 'Email',
        version: '1.0.0',
        operations: [
          {
            name: 'send',
            verb: 'Email.send',
            internal: false,
            input: expect.objectContaining({
              type: 'object',
              required: ['to'],
              properties: { to: expect.objectContaining({ type: 'string', format: 'email' }) },
            }),
            output: expect.objectContaining({ type: 'object', properties: { messageId: { type: 'string' } } }),
            sends: [],
          },
        ],
        endpoints: ['POST /emails'],
        handlers: [],
        jobs: [],
        collections: ['outbox'],
        metrics: [],
        health: false,
      },
    ])
    expect(listing.sagas).toEqual([{ name: 'order', steps: [{ name: 'notify', compensation: true }], sends: [] }])
    expect(listing.compositions).toEqual([{ name: 'mail-flow', mode: 'sequence', steps: ['EmailService.send'] }])
    expect(listing.agents).toEqual([{ name: 'helper', tools: ['db.search'], maxTurns: 10 }])
    expect(listing.events).toEqual([
      { name: 'Order.created', schema: expect.objectContaining({ required: ['id', 'total'] }) },
    ])
    expect(listing.collections).toEqual([{ name: 'outbox', owner: 'EmailService' }])
    expect(JSON.parse(JSON.stringify(listing))).toEqual(listing)
  })
})
