/**
 * The metrics registry (prom-client): built-in metrics of the runtime — runs started,
 * completed, failed and retried; run and step durations with p50/p95/p99; queue depth,
 * waiting runs and dead letters (read from the store at scrape time); circuit-breaker states;
 * cache hits and misses; AI tokens and cost — and the business's own `$.metric.*`. Exposed as
 * Prometheus text (`GET /metrics`) and as `rt.metrics.snapshot()`.
 *
 * @example
 * console.log(await rt.metrics.text())
 */
import type { Labels, MetricDefinition, MetricRecorder } from '@bac/sdk'
import { Counter, Gauge, Histogram, type Metric, Registry, Summary } from 'prom-client'
import type { BreakerPhase } from '../policies/circuit-breaker.ts'
import type { StoreStats } from '../store/store.ts'

const PERCENTILES = [0.5, 0.95, 0.99]
const PHASE: Readonly<Record<BreakerPhase, number>> = { closed: 0, 'half-open': 1, open: 2 }

export interface MetricsSources {
  stats(): Promise<StoreStats>
  breakers(): Promise<Record<string, BreakerPhase>>
}

export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

export class Metrics {
  readonly registry = new Registry()
  readonly runsStarted
  readonly runsCompleted
  readonly runsFailed
  readonly runsRetried
  readonly runsCompensated
  readonly runDuration
  readonly stepDuration
  readonly cacheRequests
  readonly aiCalls
  readonly aiTokens
  readonly aiCost
  private readonly user = new Map<string, Metric>()

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    const run = { registers, labelNames: ['kind', 'name'] as const }
    this.runsStarted = new Counter({
      name: 'bac_runs_started_total',
      help: 'Runs started (each attempt and resumption)',
      ...run,
    })
    this.runsCompleted = new Counter({ name: 'bac_runs_completed_total', help: 'Runs completed', ...run })
    this.runsFailed = new Counter({ name: 'bac_runs_failed_total', help: 'Runs failed for good', ...run })
    this.runsRetried = new Counter({
      name: 'bac_runs_retried_total',
      help: 'Run attempts that failed and will be retried',
      ...run,
    })
    this.runsCompensated = new Counter({
      name: 'bac_runs_compensated_total',
      help: 'Sagas that failed and were compensated',
      ...run,
    })
    this.runDuration = new Summary({
      name: 'bac_run_duration_seconds',
      help: 'Time of one execution of a run',
      percentiles: PERCENTILES,
      ...run,
    })
    this.stepDuration = new Summary({
      name: 'bac_step_duration_seconds',
      help: 'Time of a step',
      percentiles: PERCENTILES,
      registers,
      labelNames: ['name', 'step'],
    })
    this.cacheRequests = new Counter({
      name: 'bac_cache_requests_total',
      help: 'Result cache lookups',
      registers,
      labelNames: ['result'],
    })
    this.aiCalls = new Counter({
      name: 'bac_ai_calls_total',
      help: 'AI model calls: ok, error or cached',
      registers,
      labelNames: ['model', 'result'],
    })
    this.aiTokens = new Counter({
      name: 'bac_ai_tokens_total',
      help: 'AI tokens used',
      registers,
      labelNames: ['model', 'kind'],
    })
    this.aiCost = new Counter({
      name: 'bac_ai_cost_usd_total',
      help: 'AI spend in US dollars',
      registers,
      labelNames: ['model'],
    })
    const requests = this.cacheRequests
    new Gauge({
      name: 'bac_cache_hit_ratio',
      help: 'Share of result cache lookups that hit',
      registers,
      async collect() {
        const values = (await requests.get()).values
        const hits = values.find((v) => v.labels.result === 'hit')?.value ?? 0
        const total = values.reduce((sum, v) => sum + v.value, 0)
        this.set(total === 0 ? 0 : hits / total)
      },
    })
    new Gauge({
      name: 'bac_queue_depth',
      help: 'Runs runnable now, waiting for a worker',
      registers,
      async collect() {
        this.set((await sources.stats()).runnable)
      },
    })
    new Gauge({
      name: 'bac_runs_waiting',
      help: 'Runs waiting for a time, an event or another run',
      registers,
      async collect() {
        this.set((await sources.stats()).waiting)
      },
    })
    new Gauge({
      name: 'bac_dead_letters',
      help: 'Runs in the dead-letter queue',
      registers,
      async collect() {
        this.set((await sources.stats()).deadLetters)
      },
    })
    new Gauge({
      name: 'bac_circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      registers,
      labelNames: ['breaker'],
      async collect() {
        this.reset()
        for (const [breaker, phase] of Object.entries(await sources.breakers())) this.set({ breaker }, PHASE[phase])
      },
    })
  }

  /** The recorder of a business metric, made on first use with its declared labels. */
  recorder(definition: MetricDefinition): MetricRecorder {
    let metric = this.user.get(definition.name)
    if (!metric) {
      const config = {
        name: definition.name,
        help: definition.description ?? definition.name,
        labelNames: [...(definition.labels ?? [])],
        registers: [this.registry],
      }
      metric =
        definition.kind === 'counter'
          ? new Counter(config)
          : definition.kind === 'gauge'
            ? new Gauge(config)
            : definition.kind === 'histogram'
              ? new Histogram({ ...config, ...(definition.buckets ? { buckets: [...definition.buckets] } : {}) })
              : new Summary({ ...config, percentiles: [...(definition.percentiles ?? PERCENTILES)] })
      this.user.set(definition.name, metric)
    }
    return recorderOf(metric)
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }

  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/** `inc(labels?, value?)`, `observe(labels | value, value?)`... onto a prom-client metric. */
function recorderOf(metric: Metric): MetricRecorder {
  const split = (labels?: Labels | number, value?: number): [Labels, number | undefined] =>
    typeof labels === 'number' ? [{}, labels] : [labels ?? {}, value]
  const m = metric as unknown as Record<string, (labels: Labels, value?: number) => void>
  const call = (method: string) => (labels?: Labels | number, value?: number) => {
    const [l, v] = split(labels, value)
    const fn = m[method]
    if (typeof fn !== 'function')
      throw new TypeError(`${method}() is not available on a ${metric.constructor.name.toLowerCase()}`)
    fn.call(metric, l, v)
  }
  return { inc: call('inc'), dec: call('dec'), set: call('set'), observe: call('observe') }
}
