import { describe, expect, it } from 'vitest'
import { bindContext } from './context.ts'
import { $, business, send } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'

interface Order {
  id: string
  total: number
}

describe('$.saga', () => {
  it('declares steps with their compensations and policies, as in the seed’s OrderSaga', () => {
    const reserve = async (order: Order) => send($.Inventory.reserve, { orderId: order.id })
    const release = async (_order: Order, reservation: { id: string }) =>
      send($.Inventory.release, { reservationId: reservation.id })
    const definition = business('sagas', () => {
      $.saga<Order>({
        name: 'Order Processing Saga',
        retry: 2,
        steps: [
          { name: 'reserve-inventory', action: reserve, compensation: release, timeout: '5s' },
          {
            name: 'process-payment',
            action: (order) => send($.Payment.process, { amount: order.total }),
            compensation: (_order, payment: { id: string }) => send($.Payment.refund, { paymentId: payment.id }),
          },
          { name: 'send-confirmation', action: () => send($.Email.send, { template: 'order-confirmation' }) },
        ],
      })
    })
    const [saga] = definition.sagas
    expect(saga?.name).toBe('Order Processing Saga')
    expect(saga?.steps.map((s) => [s.name, Boolean(s.compensation), s.options])).toEqual([
      ['reserve-inventory', true, { timeout: 5000 }],
      ['process-payment', true, {}],
      ['send-confirmation', false, {}],
    ])
    expect(saga?.options).toEqual({ retry: { attempts: 2 } })
    expect(saga?.sends).toEqual([
      'Inventory.reserve',
      'Inventory.release',
      'Payment.process',
      'Payment.refund',
      'Email.send',
    ])
  })

  it('executes through the bound context', async () => {
    const { context, calls } = recordingContext()
    const saga = $.saga({ name: 'bound-saga', steps: [{ name: 'one', action: () => 1 }] })
    await bindContext(context, () => saga.execute({ id: 'o1' }, { idempotencyKey: 'o1' }))
    expect(calls).toEqual([{ method: 'execute', args: ['saga', 'bound-saga', { id: 'o1' }, { idempotencyKey: 'o1' }] }])
  })

  it('rejects a saga without a name, steps, step names or actions', () => {
    const bad = (input: unknown) => () => business('bad', () => $.saga(input as never))
    expect(bad({ steps: [] })).toThrow(/\$\.saga\(\): a saga needs a name/)
    expect(bad({ name: 's', steps: [] })).toThrow(/\$\.saga\('s'\): steps must be a non-empty list/)
    expect(bad({ name: 's', steps: [{ action: () => 1 }] })).toThrow(/\$\.saga\('s'\) steps\[0\]: a step needs a name/)
    expect(bad({ name: 's', steps: [{ name: 'charge' }] })).toThrow(
      /\$\.saga\('s'\) steps\[0\] \('charge'\): a step needs an action, e.g. action: async \(input\) => \.\.\./,
    )
    expect(bad({ name: 's', steps: [{ name: 'a', action: () => 1, compensation: 'undo' }] })).toThrow(
      /steps\[0\] \('a'\): compensation must be a function/,
    )
    expect(
      bad({
        name: 's',
        steps: [
          { name: 'a', action: () => 1 },
          { name: 'a', action: () => 2 },
        ],
      }),
    ).toThrow(/step name "a" is used twice/)
    expect(bad({ name: 's', steps: [{ name: 'a', action: () => 1, retries: 3 }] })).toThrow(
      /steps\[0\] \('a'\): unknown option "retries" \(did you mean "retry"\?\)/,
    )
  })
})
