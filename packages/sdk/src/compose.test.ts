import { describe, expect, it } from 'vitest'
import { bindContext } from './context.ts'
import { $, business } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'

describe('$.compose', () => {
  it('composes services, operations, sagas, agents, functions and compositions', () => {
    const definition = business('compose', () => {
      const Validation = $.service({ name: 'OrderValidationService', operations: { validate: (o: object) => o } })
      const Payment = $.service({ name: 'PaymentService', operations: { process: (o: object) => o, _fee: () => 1 } })
      const Fulfillment = $.service({
        name: 'FulfillmentService',
        operations: { execute: (o: object) => o, status: () => 'ok' },
      })
      const Saga = $.saga({ name: 'refund', steps: [{ name: 'a', action: () => 1 }] })
      const Agent = $.agent({ name: 'advisor', instructions: 'Advise.' })
      const flow = $.compose([Validation, Payment, Fulfillment])
      $.compose.parallel(
        [
          Saga,
          Agent,
          flow,
          $.Analytics.track,
          function tally(x: unknown) {
            return x
          },
        ],
        { name: 'enrich' },
      )
      $.compose.conditional({
        conditions: [
          { when: (o: { total: number }) => o.total < 100, use: Payment },
          { when: (o: { total: number }) => o.total >= 1000, use: Fulfillment },
        ],
        default: Validation,
      })
    })
    expect(definition.compositions.map((c) => [c.name, c.mode, c.steps])).toEqual([
      [
        'OrderValidationService > PaymentService > FulfillmentService',
        'sequence',
        [
          { kind: 'operation', service: 'OrderValidationService', operation: 'validate' },
          { kind: 'operation', service: 'PaymentService', operation: 'process' },
          { kind: 'operation', service: 'FulfillmentService', operation: 'execute' },
        ],
      ],
      [
        'enrich',
        'parallel',
        [
          { kind: 'saga', name: 'refund' },
          { kind: 'agent', name: 'advisor' },
          { kind: 'composition', name: 'OrderValidationService > PaymentService > FulfillmentService' },
          { kind: 'send', verb: 'Analytics.track' },
          { kind: 'function', name: 'tally', fn: expect.any(Function) },
        ],
      ],
      [
        'route(PaymentService | FulfillmentService | OrderValidationService)',
        'conditional',
        [
          { kind: 'operation', service: 'PaymentService', operation: 'process' },
          { kind: 'operation', service: 'FulfillmentService', operation: 'execute' },
        ],
      ],
    ])
    expect(definition.compositions[2]?.fallback).toEqual({
      kind: 'operation',
      service: 'OrderValidationService',
      operation: 'validate',
    })
  })

  it('brings composed declarations into the business', () => {
    const Outside = $.service({ name: 'OutsideService', operations: { run: (x: number) => x } })
    const definition = business('brings', () => {
      $.compose([Outside])
    })
    expect(definition.services.map((s) => s.name)).toEqual(['OutsideService'])
  })

  it('executes through the bound context', async () => {
    const { context, calls } = recordingContext()
    const flow = $.compose([(x: number) => x + 1], { name: 'plus-one' })
    await bindContext(context, () => flow.execute(1))
    expect(calls).toEqual([{ method: 'execute', args: ['composition', 'plus-one', 1, undefined] }])
  })

  it('rejects what it cannot run', () => {
    expect(() => business('x', () => $.compose([]))).toThrow(/\$\.compose\(\): expected a non-empty list/)
    expect(() => business('x', () => $.compose([42 as never]))).toThrow(
      /\$\.compose\(\)\[0\]: expected a function, a reference such as \$\.Payment\.process, a service/,
    )
    expect(() =>
      business('x', () => {
        const Many = $.service({ name: 'Many', operations: { a: () => 1, b: () => 2 } })
        $.compose([Many])
      }),
    ).toThrow(/service "Many" has operations a, b; compose one of them by reference \(\$\.Many\.<operation>\)/)
    expect(() => business('x', () => $.compose.conditional({ conditions: [] }))).toThrow(
      /conditions must be a non-empty list/,
    )
    expect(() =>
      business('x', () => $.compose.conditional({ conditions: [{ when: 'big' as never, use: () => 1 }] })),
    ).toThrow(/conditions\[0\]: when must be a function/)
  })
})
