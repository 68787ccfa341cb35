/**
 * Tracing through the OpenTelemetry API: a span per run and per step, and the trace context
 * stored with every event and run a run creates, so a chain of events is one trace — however
 * many processes and restarts it spans. With no OpenTelemetry SDK registered, the API is a
 * no-op and so is this.
 *
 * @example
 * const span = startRunSpan(run)
 * const carrier = traceOf(span)   // stored on what the run sends
 */

import { scrubText } from '@bac/sdk'
import { context, propagation, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from '@opentelemetry/api'
import type { RunRecord } from '../store/store.ts'

const tracer = () => trace.getTracer('bac')

/** A span for one execution of a run, child of the trace that created the run. */
export function startRunSpan(run: RunRecord, attributes: Record<string, string | number>): Span {
  const parent = run.trace ? propagation.extract(ROOT_CONTEXT, { traceparent: run.trace }) : ROOT_CONTEXT
  return tracer().startSpan(
    `${run.kind} ${run.name}`,
    { attributes: { 'bac.run.id': run.id, 'bac.run.attempt': run.attempt, ...attributes } },
    parent,
  )
}

/** A span for a step inside a run's span. */
export function startStepSpan(parent: Span | undefined, name: string): Span {
  return tracer().startSpan(`step ${name}`, {}, parent ? trace.setSpan(ROOT_CONTEXT, parent) : context.active())
}

export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return
  if (error) {
    // Traces leave the process: the error goes out scrubbed, like a log line.
    const message = scrubText((error as Error)?.message ?? String(error))
    span.recordException({ name: (error as Error)?.name ?? 'Error', message })
    span.setStatus({ code: SpanStatusCode.ERROR, message })
  }
  span.end()
}

/** The W3C `traceparent` of a span (or of the caller's active span): what is stored with a run. */
export function traceOf(span?: Span): string | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(span ? trace.setSpan(ROOT_CONTEXT, span) : context.active(), carrier)
  return carrier.traceparent
}

/** Run `fn` with `span` as the active span, so spans the user's code (or its libraries) starts are its children. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn()
}
