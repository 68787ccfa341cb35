import { $, on, send } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from './runtime.ts'
import { announcePostgresSkip, testStores } from './store/test-stores.fixture.ts'
import { testRuntime } from './test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

interface Order {
  id: string
  items: string[]
  total: number
  customer: { email: string }
}

/** Let `minutes` pass a minute at a time, running what falls due (retries, compensations). */
async function minutesPass(t: Awaited<ReturnType<typeof testRuntime>>, minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    await t.rt.drain()
    await t.clock.advance('1m')
  }
  await t.rt.drain()
}

const order: Order = { id: 'o1', items: ['lamp'], total: 120, customer: { email: 'ann@example.com' } }

describe.each(testStores)('sagas on $name', ({ make }) => {
  let rt: Runtime | undefined
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  /** The seed's OrderSaga, over services that record what they did. */
  const shop =
    (journal: string[], failPayment: () => boolean, failRelease = () => false) =>
    () => {
      $.service({
        name: 'InventoryService',
        operations: {
          reserve: ({ orderId }: { orderId: string }) => {
            journal.push(`reserve ${orderId}`)
            return { id: `res-${orderId}` }
          },
          release: ({ reservationId }: { reservationId: string }) => {
            journal.push(`release ${reservationId}`)
            if (failRelease()) throw new Error('warehouse offline')
          },
        },
      })
      $.service({
        name: 'PaymentService',
        operations: {
          process: {
            retry: { attempts: 2, initialDelay: '1s', jitter: false },
            handler: ({ orderId }: { orderId: string }) => {
              journal.push(`charge ${orderId}`)
              if (failPayment()) throw new Error('card declined')
              return { id: `pay-${orderId}` }
            },
          },
          refund: ({ paymentId }: { paymentId: string }) => journal.push(`refund ${paymentId}`),
        },
      })
      $.service({
        name: 'ShipmentService',
        operations: {
          create: ({ orderId }: { orderId: string }) => {
            journal.push(`ship ${orderId}`)
            return { id: `ship-${orderId}` }
          },
          cancel: ({ shipmentId }: { shipmentId: string }) => journal.push(`cancel ${shipmentId}`),
        },
      })
      $.service({
        name: 'EmailService',
        operations: { send: ({ template }: { template: string }) => journal.push(`email ${template}`) },
      })
      const OrderSaga = $.saga<Order>({
        name: 'Order Processing Saga',
        steps: [
          {
            name: 'reserve-inventory',
            action: (o) => send($.Inventory.reserve, { items: o.items, orderId: o.id }),
            compensation: (_o, reservation: { id: string }) =>
              send($.Inventory.release, { reservationId: reservation.id }),
          },
          {
            name: 'process-payment',
            action: (o) => send($.Payment.process, { orderId: o.id, amount: o.total }),
            compensation: (_o, payment: { id: string }) => send($.Payment.refund, { paymentId: payment.id }),
          },
          {
            name: 'create-shipment',
            action: (o) => send($.Shipment.create, { orderId: o.id, items: o.items }),
            compensation: (_o, shipment: { id: string }) => send($.Shipment.cancel, { shipmentId: shipment.id }),
          },
          {
            name: 'send-confirmation',
            action: (o) => send($.Email.send, { to: o.customer.email, template: 'order-confirmation' }),
            compensation: (o) => send($.Email.send, { to: o.customer.email, template: 'order-cancelled' }),
          },
        ],
      })
      on($.Order.created, async (o: Order) => {
        try {
          await OrderSaga.execute(o)
          await send($.Order.completed, { orderId: o.id })
        } catch (error) {
          await send($.Order.failed, { orderId: o.id, error: (error as Error).message })
        }
      })
      on($.Order.completed, ({ orderId }: { orderId: string }) => journal.push(`completed ${orderId}`))
      on($.Order.failed, ({ orderId, error }: { orderId: string; error: string }) =>
        journal.push(`failed ${orderId}: ${error}`),
      )
    }

  it('runs every step in order and completes', async () => {
    const journal: string[] = []
    ;({ rt } = await testRuntime(
      await make(),
      shop(journal, () => false),
    ))
    await rt.send($.Order.created, order)
    await rt.drain()
    expect(journal).toEqual(['reserve o1', 'charge o1', 'ship o1', 'email order-confirmation', 'completed o1'])
    const [saga] = await rt.runs.list({ kind: 'saga' })
    expect(saga).toMatchObject({
      status: 'completed',
      result: {
        'reserve-inventory': { id: 'res-o1' },
        'process-payment': { id: 'pay-o1' },
        'create-shipment': { id: 'ship-o1' },
      },
    })
  })

  it('releases the inventory when payment fails, and the caller sees the failure', async () => {
    const journal: string[] = []
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(
      await make(),
      shop(journal, () => true),
    ))
    await rt.send($.Order.created, order)
    await rt.drain()
    await t.clock.advance('2s')
    await rt.drain()
    expect(journal).toEqual([
      'reserve o1',
      'charge o1',
      'charge o1',
      'release res-o1',
      'failed o1: saga "Order Processing Saga" failed at step "process-payment" (Error: card declined); finished steps were compensated',
    ])
    const [saga] = await rt.runs.list({ kind: 'saga' })
    expect(saga).toMatchObject({ status: 'compensated', error: { code: 'BAC_SAGA_COMPENSATED' } })
    expect(await rt.dlq.list()).toEqual([])
    const detail = await rt.runs.get(saga?.id ?? '')
    const steps = Object.fromEntries(
      detail?.steps.filter((s) => !s.key.includes('/') && !s.key.includes(':run')).map((s) => [s.key, s.result]) ?? [],
    )
    expect(steps['action:reserve-inventory#1']).toEqual({ ok: true, value: { id: 'res-o1' } })
    expect(steps['action:process-payment#1']).toMatchObject({ ok: false, error: { message: 'card declined' } })
    expect(steps['compensate:reserve-inventory#1']).toMatchObject({ ok: true })
  })

  it('compensates in reverse order when a late step fails', async () => {
    const journal: string[] = []
    let three: { execute(input: number): Promise<unknown> } | undefined
    ;({ rt } = await testRuntime(await make(), () => {
      $.service({
        name: 'Steps',
        operations: { act: (n: number) => journal.push(`do ${n}`), undo: (n: number) => journal.push(`undo ${n}`) },
      })
      three = $.saga<number>({
        name: 'three',
        steps: [1, 2, 3].map((n) => ({
          name: `step-${n}`,
          action: async () => {
            if (n === 3) throw new Error('third fails')
            return send($.Steps.act, n)
          },
          compensation: () => send($.Steps.undo, n),
        })),
      })
    }))
    const failure = await (rt as Runtime)
      .run(() => (three as { execute(input: number): Promise<unknown> }).execute(0))
      .catch((e: Error) => e)
    expect((failure as Error).message).toBe(
      'saga "three" failed at step "step-3" (Error: third fails); finished steps were compensated',
    )
    expect(journal).toEqual(['do 1', 'do 2', 'undo 2', 'undo 1'])
  })

  it('retries a compensation, and files the saga as a dead letter when undoing fails for good', async () => {
    const journal: string[] = []
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(
      await make(),
      shop(
        journal,
        () => true,
        () => true,
      ),
    ))
    await rt.send($.Order.created, order)
    await minutesPass(t, 8)
    expect(journal.filter((j) => j.startsWith('release'))).toHaveLength(5 * 3)
    const [saga] = await rt.runs.list({ kind: 'saga' })
    expect(saga).toMatchObject({ status: 'failed', error: { code: 'BAC_SAGA_COMPENSATION_FAILED' } })
    const letters = await rt.dlq.list()
    expect(letters.map((l) => [l.name, l.error.code])).toEqual([
      ['Order Processing Saga', 'BAC_SAGA_COMPENSATION_FAILED'],
    ])
    expect(letters[0]?.error.message).toMatch(
      /compensating step "reserve-inventory" failed too \(Error: warehouse offline\)/,
    )
  })

  it('undoes a saga for good when its dead letter is replayed after the compensation is fixed', async () => {
    const journal: string[] = []
    let warehouseOnline = false
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(
      await make(),
      shop(
        journal,
        () => true,
        () => !warehouseOnline,
      ),
    ))
    await rt.send($.Order.created, order)
    await minutesPass(t, 8)
    const [letter] = await rt.dlq.list()
    expect(letter?.error.code).toBe('BAC_SAGA_COMPENSATION_FAILED')
    const releases = journal.filter((j) => j.startsWith('release')).length

    warehouseOnline = true
    await rt.dlq.replay(letter?.id ?? '')
    await minutesPass(t, 8)
    // The failed attempts are tried again (not replayed as failures): the payment is still
    // declined, so the saga undoes what it did — and now the release goes through.
    const [saga] = await rt.runs.list({ kind: 'saga' })
    expect(saga?.status).toBe('compensated')
    expect(journal.filter((j) => j.startsWith('release')).length).toBe(releases + 1)
    expect(await rt.dlq.list()).toEqual([])
  })

  it('replays a caller’s dead letter together with its saga, whose own letter goes with it', async () => {
    let undoWorks = false
    const undone: string[] = []
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(await make(), () => {
      const saga = $.saga<number>({
        name: 'transfer',
        steps: [
          {
            name: 'debit',
            action: () => 'debited',
            compensation: () => {
              if (!undoWorks) throw new Error('ledger locked')
              undone.push('credit back')
            },
          },
          {
            name: 'credit',
            action: () => {
              throw new Error('account closed')
            },
          },
        ],
      })
      on($.Transfer.requested, (n: number) => saga.execute(n), { retry: false })
    }))
    await rt.send($.Transfer.requested, 1)
    await minutesPass(t, 8)
    const letters = await rt.dlq.list()
    expect(letters.map((l) => l.name).sort()).toEqual(['Transfer.requested', 'transfer'])
    undoWorks = true
    await rt.dlq.replay(letters.find((l) => l.name === 'Transfer.requested')?.id ?? '')
    await minutesPass(t, 8)
    expect(undone).toEqual(['credit back'])
    expect((await rt.runs.list({ kind: 'saga' }))[0]?.status).toBe('compensated')
    // The handler ends compensated with it; the saga's own letter went with the replay (replayed
    // later, it would have run the saga again).
    expect((await rt.runs.list({ name: 'Transfer.requested' }))[0]?.status).toBe('compensated')
    expect(await rt.dlq.list()).toEqual([])
  })
})
