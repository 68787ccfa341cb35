/**
 * `$.metric.counter|gauge|histogram|summary(...)`: user metrics, declared with the business and
 * recorded into the runtime's registry (exposed as Prometheus text and `rt.metrics`).
 *
 * @example
 * const orders = $.metric.counter({ name: 'orders_total', labels: ['channel'] })
 * on($.Order.created, (order) => orders.inc({ channel: order.channel }))
 */
import { activeCollector, type Declared, declares } from './collector.ts'
import { current } from './context.ts'
import { DeclarationError } from './errors.ts'
import { unknownKeys } from './suggest.ts'

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary'

export interface MetricDefinition {
  readonly kind: MetricKind
  readonly name: string
  readonly description?: string
  readonly labels?: readonly string[]
  /** Histogram bucket upper bounds, ascending. */
  readonly buckets?: readonly number[]
  /** Summary quantiles, each in (0, 1). */
  readonly percentiles?: readonly number[]
}

export type MetricOptions = Omit<MetricDefinition, 'kind'>

export type Labels = Readonly<Record<string, string | number | boolean>>

/** Recording calls; `labels` may be left out (`inc()`, `observe(12)`). */
export interface MetricRecorder {
  inc(labels?: Labels | number, value?: number): void
  dec(labels?: Labels | number, value?: number): void
  set(labels: Labels | number, value?: number): void
  observe(labels: Labels | number, value?: number): void
}

export type Metric = MetricRecorder & Declared & { readonly definition: MetricDefinition }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function define(kind: MetricKind, input: string | MetricOptions): Metric {
  const options: MetricOptions = typeof input === 'string' ? { name: input } : input
  const place = `$.metric.${kind}(${JSON.stringify(options?.name)})`
  if (typeof options !== 'object' || options === null) {
    throw new DeclarationError(
      `${place}: expected a name or { name, description, labels }, got ${JSON.stringify(input)}`,
    )
  }
  const unknown = unknownKeys(options, ['name', 'description', 'labels', 'buckets', 'percentiles'], place)
  if (unknown) throw new DeclarationError(unknown)
  if (typeof options.name !== 'string' || !NAME.test(options.name)) {
    throw new DeclarationError(
      `${place}: name must match ${NAME} (e.g. 'orders_total'), got ${JSON.stringify(options.name)}`,
    )
  }
  for (const label of options.labels ?? []) {
    if (!LABEL.test(label) || label.startsWith('__')) {
      throw new DeclarationError(`${place}: label names must match ${LABEL} and not start with __, got "${label}"`)
    }
  }
  const buckets = options.buckets
  if (buckets && (kind !== 'histogram' || buckets.some((b, i) => i > 0 && b <= (buckets[i - 1] ?? 0)))) {
    throw new DeclarationError(`${place}: buckets are for histograms and must ascend, got ${JSON.stringify(buckets)}`)
  }
  if (options.percentiles && (kind !== 'summary' || options.percentiles.some((p) => !(p > 0 && p < 1)))) {
    throw new DeclarationError(
      `${place}: percentiles are for summaries, each between 0 and 1, got ${JSON.stringify(options.percentiles)}`,
    )
  }
  const definition: MetricDefinition = Object.freeze({ kind, ...options })
  activeCollector().add(definition)
  const record =
    (method: keyof MetricRecorder) =>
    (labels?: Labels | number, value?: number): void =>
      current(`${options.name}.${method}()`)
        .metric(definition)
        [method](labels as Labels, value)
  return Object.freeze(
    declares({ definition, inc: record('inc'), dec: record('dec'), set: record('set'), observe: record('observe') }, [
      definition,
    ]),
  )
}

export const metric = Object.freeze({
  counter: (input: string | MetricOptions): Metric => define('counter', input),
  gauge: (input: string | MetricOptions): Metric => define('gauge', input),
  histogram: (input: string | MetricOptions): Metric => define('histogram', input),
  summary: (input: string | MetricOptions): Metric => define('summary', input),
})

export const isMetric = (value: unknown): value is Metric =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Partial<Metric>).definition?.kind === 'string' &&
  ['counter', 'gauge', 'histogram', 'summary'].includes((value as Metric).definition.kind)
