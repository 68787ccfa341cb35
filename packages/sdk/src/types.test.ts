/**
 * Type behaviour: payloads typed by declaration merging and by zod schemas, unknown names
 * allowed and untyped. Declarations merged here are global to the type-checked program, so
 * the names are prefixed (`Tt...`) to stay clear of other tests and examples.
 */
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { business } from './collector.ts'
import type { Context } from './context.ts'
import type { Collection, Doc, Transaction } from './db.ts'
import { $, ai, db, type EventsOf, events, on, send } from './index.ts'

interface TtOrder {
  id: string
  total: number
}

const ttSchemas = { TtLead: { captured: z.object({ email: z.string(), score: z.number().optional() }) } }

declare module './types.ts' {
  interface Events extends EventsOf<typeof ttSchemas> {
    'TtOrder.created': TtOrder
    'TtOrder.paid': { id: string; amount: number }
    'TtPayment.created': { paymentId: string }
  }
  interface Operations {
    'TtInventory.reserve': { input: { sku: string; quantity: number }; output: { reservationId: string } }
  }
}

describe('payload types', () => {
  it('come from Events for references and strings', () => {
    business('types', () => {
      on($.TtOrder.created, (order, ctx) => {
        expectTypeOf(order).toEqualTypeOf<TtOrder>()
        expectTypeOf(ctx).toEqualTypeOf<Context>()
      })
      on('TtOrder.created', (order) => expectTypeOf(order).toEqualTypeOf<TtOrder>())
      on('$.TtOrder.created', (order) => expectTypeOf(order).toEqualTypeOf<TtOrder>())
      on('TtOrder.*', (event) => expectTypeOf(event).toEqualTypeOf<TtOrder | { id: string; amount: number }>())
      on('*.created', (event) => expectTypeOf(event).toEqualTypeOf<TtOrder | { paymentId: string }>())
      on([$.TtOrder.paid, 'TtPayment.created'], (event) =>
        expectTypeOf(event).toEqualTypeOf<{ id: string; amount: number } | { paymentId: string }>(),
      )
      on($.TtOrder.created, () => {}, { idempotencyKey: (order) => order.id })
    })
  })

  it('check what send is given and type what it returns', () => {
    expectTypeOf(send<'TtOrder.created'>)
      .parameter(1)
      .toEqualTypeOf<TtOrder>()
    expectTypeOf(() => send($.TtOrder.created, { id: 'o1', total: 3 })).returns.resolves.toEqualTypeOf<string>()
    expectTypeOf(() => send($.TtInventory.reserve, { sku: 's', quantity: 1 })).returns.resolves.toEqualTypeOf<{
      reservationId: string
    }>()
    // @ts-expect-error total must be a number
    void (() => send($.TtOrder.created, { id: 'o1', total: '3' }))
    // @ts-expect-error a declared event needs its payload
    void (() => send('TtOrder.paid', {}))
  })

  it('leave unknown events allowed and untyped', () => {
    business('untyped', () => {
      on('Nobody.declared', (payload) => expectTypeOf(payload).toBeUnknown())
      on($.Nobody.declared, (payload) => expectTypeOf(payload).toBeUnknown())
      on('TtOrder.unknownVerb', (payload) => expectTypeOf(payload).toBeUnknown())
      on('Nobody.*', (payload) => expectTypeOf(payload).toBeUnknown())
      on($.Nobody.declared, (payload: { anything: boolean }) => payload.anything)
    })
    void (() => send('Nobody.declared', { whatever: true }))
    void (() => send($.Nobody.declared, 42))
  })

  it('offer declared verbs on a subject (what autocompletion lists)', () => {
    expectTypeOf($.TtOrder).toHaveProperty('created')
    expectTypeOf($.TtOrder).toHaveProperty('paid')
    expectTypeOf($.TtOrder.created.path).toEqualTypeOf<'TtOrder.created'>()
    expectTypeOf($.TtOrder.create).toBeCallableWith({ id: 'x' })
    expectTypeOf(() => $.TtOrder.get('o1')).returns.resolves.toEqualTypeOf<Doc<Record<string, unknown>> | null>()
  })

  it('come from zod schemas given to events()', () => {
    const shop = events({ TtShop: { opened: z.object({ at: z.string(), staff: z.array(z.string()) }) } })
    business('zod', () => {
      on(shop.TtShop.opened, (opened) => expectTypeOf(opened).toEqualTypeOf<{ at: string; staff: string[] }>())
      on($.TtLead.captured, (lead) => expectTypeOf(lead).toEqualTypeOf<{ email: string; score?: number | undefined }>())
    })
    // @ts-expect-error staff must be a list of strings
    void (() => send(shop.TtShop.opened, { at: 'now', staff: 'ann' }))
  })

  it('type service handlers keyed by event name, and operations by their contracts', () => {
    const service = $.service({
      name: 'TtService',
      handlers: {
        'TtOrder.created': (order) => expectTypeOf(order).toEqualTypeOf<TtOrder>(),
        [$.TtOrder.paid]: (paid: { id: string; amount: number }) => paid.amount,
      },
      operations: {
        quote: { input: z.object({ sku: z.string() }), handler: (input) => ({ price: input.sku.length }) },
        legacy: {
          input: { email: { type: 'string', required: true }, age: { type: 'integer' } },
          handler: (input: { email: string; age?: number }) => input.email,
        },
        plain: async (id: string) => ({ id }),
      },
    })
    void (() => service.quote({ sku: 'a' }))
    // @ts-expect-error the contract says sku is a string
    void (() => service.quote({ sku: 1 }))
    expectTypeOf(() => service.quote({ sku: 'a' })).returns.resolves.toEqualTypeOf<{ price: number }>()
    expectTypeOf(() => service.legacy({ email: 'a' })).returns.resolves.toEqualTypeOf<string>()
    expectTypeOf(() => service.plain('p')).returns.resolves.toEqualTypeOf<{ id: string }>()
    expectTypeOf(service.name).toEqualTypeOf<'TtService'>()
  })

  it('type ai results by categories and schemas', () => {
    expectTypeOf(() => ai.classify({ text: 't', categories: ['billing', 'support'] })).returns.resolves.toEqualTypeOf<{
      readonly category: 'billing' | 'support'
      readonly confidence: number
    }>()
    expectTypeOf(() => ai.extract('t', z.object({ seats: z.number() }))).returns.resolves.toEqualTypeOf<{
      seats: number
    }>()
    expectTypeOf(() => ai`tagline for ${'lamp'}`).returns.resolves.toEqualTypeOf<string>()
  })
  it('type conditional writes as possibly null, and transactions by what their function returns', () => {
    interface Stock {
      available: number
    }
    const stock = {} as Collection<Stock>
    expectTypeOf(() => stock.update('s', { $inc: { available: -1 } })).returns.resolves.toEqualTypeOf<Doc<Stock>>()
    expectTypeOf(() =>
      stock.update('s', { $inc: { available: -1 } }, { where: { 'available:gte': 1 } }),
    ).returns.resolves.toEqualTypeOf<Doc<Stock> | null>()
    expectTypeOf(() =>
      stock.update('s', { available: 0 }, { where: { available: 1 }, orFail: true }),
    ).returns.resolves.toEqualTypeOf<Doc<Stock>>()
    expectTypeOf(() =>
      db.update<Stock>('Stock', 's', { available: 0 }, { ifVersion: 3 }),
    ).returns.resolves.toEqualTypeOf<Doc<Stock>>()
    expectTypeOf(() =>
      $.TtOrder.update('o1', { total: 1 }, { where: { total: 2 } }),
    ).returns.resolves.toEqualTypeOf<Doc<{ total: number }> | null>()
    expectTypeOf<Doc<Stock>['$version']>().toEqualTypeOf<number>()
    expectTypeOf(() =>
      db.transaction(async (tx) => {
        expectTypeOf(tx).toEqualTypeOf<Transaction>()
        return (await tx.get<Stock>('Stock', 's', { forUpdate: true }))?.available ?? 0
      }),
    ).returns.resolves.toEqualTypeOf<number>()
  })
})
