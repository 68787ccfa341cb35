import { describe, expect, it } from 'vitest'
import { bindContext } from './context.ts'
import { $, business } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'

describe('$.rpc, $.stream and $.metric', () => {
  it('$.rpc calls an operation by service and name', async () => {
    const { context, calls } = recordingContext()
    await bindContext(context, () => $.rpc.UserService.getProfile('u1', { version: '^2' }))
    expect(calls).toEqual([{ method: 'call', args: ['UserService', 'getProfile', 'u1', { version: '^2' }] }])
    expect(($.rpc as unknown as { then?: unknown }).then).toBeUndefined()
  })

  it('$.stream.subscribe iterates the events the context streams', async () => {
    const { context, calls } = recordingContext()
    const seen: unknown[] = []
    await bindContext(context, async () => {
      for await (const event of $.stream.subscribe($.Order.status_changed)) seen.push(event.data)
    })
    expect(calls).toEqual([{ method: 'subscribe', args: ['Order.status_changed'] }])
    expect(seen).toEqual([{ n: 1 }])
    expect(() => $.stream.subscribe('nope' as never)).toThrow(
      /\$\.stream\.subscribe\(\): "nope" is not an event pattern/,
    )
  })

  it('$.metric declares metrics with the business and records through the context', async () => {
    let requests: ReturnType<typeof $.metric.counter> | undefined
    const definition = business('metrics', () => {
      requests = $.metric.counter({ name: 'requests_total', description: 'Requests', labels: ['method'] })
      $.metric.histogram({ name: 'request_duration_ms', buckets: [10, 50, 100] })
      $.metric.gauge('active_connections')
      $.metric.summary({ name: 'order_value', percentiles: [0.5, 0.99] })
      $.metric.counter('requests_total')
    })
    expect(definition.metrics.map((m) => `${m.kind} ${m.name}`)).toEqual([
      'counter requests_total',
      'histogram request_duration_ms',
      'gauge active_connections',
      'summary order_value',
    ])
    const { context, calls } = recordingContext()
    bindContext(context, () => requests?.inc({ method: 'GET' }))
    expect(calls).toEqual([{ method: 'metric(requests_total).inc', args: [{ method: 'GET' }, undefined] }])
  })

  it('$.metric rejects bad names, labels, buckets and a kind change', () => {
    const bad = (fn: () => void) => () => business('bad', fn)
    expect(bad(() => $.metric.counter('requests-total'))).toThrow(/name must match .* got "requests-total"/)
    expect(bad(() => $.metric.counter({ name: 'x', labels: ['__reserved'] }))).toThrow(/label names must match/)
    expect(bad(() => $.metric.histogram({ name: 'x', buckets: [5, 1] }))).toThrow(/buckets .* must ascend/)
    expect(bad(() => $.metric.summary({ name: 'x', percentiles: [1.5] }))).toThrow(/percentiles .* between 0 and 1/)
    expect(bad(() => $.metric.gauge({ name: 'x', lables: [] } as never))).toThrow(
      /unknown option "lables" \(did you mean "labels"\?\)/,
    )
    expect(
      bad(() => {
        $.metric.counter('x_total')
        $.metric.gauge('x_total')
      }),
    ).toThrow(/duplicate metric "x_total"/)
  })
})
