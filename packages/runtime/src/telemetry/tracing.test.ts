/**
 * Tracing with a real OpenTelemetry SDK registered (in-memory exporter): a span per run and
 * per step, and a chain of events — sent from outside inside a span, handled, sent on,
 * calling an operation — is one trace, each run's span a child of the one that caused it.
 */
import { $, db, on, send, step } from '@bac/sdk'
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sqlite } from '../store/sqlite/sqlite-store.ts'
import { tempFile } from '../store/test-stores.fixture.ts'
import { testRuntime } from '../test-runtime.fixture.ts'

const exporter = new InMemorySpanExporter()

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
})
afterAll(() => {
  trace.disable()
  propagation.disable()
  context.disable()
})

it('makes a chain of events one trace, from the caller’s span through every run and step', async () => {
  const { rt } = await testRuntime(sqlite({ file: tempFile() }), () => {
    on($.Order.placed, async (order: { id: string }) => {
      await send($.Payment.requested, { order: order.id })
    })
    on($.Payment.requested, async (payment: { order: string }) => {
      await step('charge', () => trace.getTracer('stripe').startActiveSpan('POST /v1/charges', (span) => span.end()))
      await send($.Receipts.issue, payment)
      await db.create('Invoice', { order: payment.order })
    })
    on($.Invoice.created, () => {})
    $.service({
      name: 'Receipts',
      operations: { issue: (payment: { order: string }) => `receipt for ${payment.order}` },
    })
  })
  try {
    const tracer = trace.getTracer('test')
    await tracer.startActiveSpan('POST /orders', async (span) => {
      await rt.send($.Order.placed, { id: 'o1' })
      span.end()
    })
    await rt.drain()
  } finally {
    await rt.stop()
  }

  const spans = exporter.getFinishedSpans()
  const named = (name: string): ReadableSpan => {
    const found = spans.find((s) => s.name === name)
    if (!found) throw new Error(`no span "${name}"; spans: ${spans.map((s) => s.name).join(', ')}`)
    return found
  }
  const root = named('POST /orders')
  const placed = named('handler Order.placed')
  const requested = named('handler Payment.requested')
  const charge = named('step charge')
  const issue = named('operation Receipts.issue')
  const traceId = root.spanContext().traceId
  for (const span of [placed, requested, charge, issue]) expect(span.spanContext().traceId).toBe(traceId)
  expect(placed.parentSpanContext?.spanId).toBe(root.spanContext().spanId)
  expect(requested.parentSpanContext?.spanId).toBe(placed.spanContext().spanId)
  expect(charge.parentSpanContext?.spanId).toBe(requested.spanContext().spanId)
  expect(issue.parentSpanContext?.spanId).toBe(requested.spanContext().spanId)
  // The user's own spans are children of the step they run in; a db write's event continues the trace.
  expect(named('POST /v1/charges').parentSpanContext?.spanId).toBe(charge.spanContext().spanId)
  const invoiced = named('handler Invoice.created')
  expect(invoiced.spanContext().traceId).toBe(traceId)
  expect(invoiced.parentSpanContext?.spanId).toBe(requested.spanContext().spanId)
  expect(requested.attributes).toMatchObject({
    'bac.run.kind': 'handler',
    'bac.run.name': 'Payment.requested',
    'bac.run.attempt': 1,
  })
  expect(issue.attributes['bac.service']).toBe('Receipts')
})
