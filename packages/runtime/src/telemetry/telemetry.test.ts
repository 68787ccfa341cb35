/**
 * Metrics as a scraper sees them: the Prometheus text of `rt.metrics.text()`, parsed by a
 * Prometheus text parser, after a business has completed, retried, failed and cached runs and
 * recorded its own metrics.
 */
import { $, on, sleep, step } from '@bac/sdk'
import parse, { type ParsedFamily } from 'parse-prometheus-text-format'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from '../runtime.ts'
import { announcePostgresSkip, testStores } from '../store/test-stores.fixture.ts'
import { testRuntime } from '../test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

const family = (families: ParsedFamily[], name: string) => {
  const found = families.find((f) => f.name === name)
  if (!found) throw new Error(`no metric ${name} in the scrape; got ${families.map((f) => f.name).join(', ')}`)
  return found
}
const value = (families: ParsedFamily[], name: string, labels: Record<string, string> = {}) =>
  Number(
    family(families, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ??
      Number.NaN,
  )

describe.each(testStores)('metrics on $name', ({ make }) => {
  let rt: Runtime | undefined
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  it('are scraped in Prometheus text: runs, durations, queue, dead letters, breakers, cache and business metrics', async () => {
    let flaky = 0
    let blocked: Promise<void> | undefined
    const t = await testRuntime(await make(), () => {
      const orders = $.metric.counter({ name: 'orders_total', description: 'Orders placed', labels: ['channel'] })
      const basket = $.metric.histogram({ name: 'basket_size', buckets: [1, 5, 10] })
      $.metric.gauge('idle_gauge')
      on($.Order.placed, async (order: { channel: string; items: number }) => {
        await step('price', () => order.items * 2)
        orders.inc({ channel: order.channel })
        basket.observe(order.items)
      })
      on(
        $.Flaky.ran,
        () => {
          if (++flaky === 1) throw new Error('once')
        },
        { retry: { attempts: 2, initialDelay: '1s', jitter: false } },
      )
      on(
        $.Broken.ran,
        () => {
          throw new Error('always')
        },
        { retry: false, circuitBreaker: { threshold: 1 } },
      )
      $.service({ name: 'Prices', operations: { get: { handler: (id: string) => id.length, cache: '1m' } } })
      on($.Trial.started, () => sleep('1d'))
      on($.Report.requested, () => blocked, { concurrency: 1 })
    })
    rt = t.rt
    await rt.send($.Order.placed, { channel: 'web', items: 3 })
    await rt.send($.Order.placed, { channel: 'web', items: 7 })
    await rt.send($.Order.placed, { channel: 'shop', items: 1 })
    await rt.send($.Flaky.ran, {})
    await rt.send($.Broken.ran, {})
    await rt.send($.Prices.get, 'abc')
    await rt.send($.Prices.get, 'abc')
    await rt.send($.Trial.started, {})
    await rt.send($.Trial.started, {}, { deliverAt: t.clock.now() + 60_000 })
    await rt.drain()
    await t.clock.advance('1s')
    await rt.drain()

    const text = await rt.metrics.text()
    expect(rt.metrics.contentType).toContain('text/plain')
    const families = parse(text)
    const order = { kind: 'handler', name: 'Order.placed' }
    expect(value(families, 'bac_runs_started_total', order)).toBe(3)
    expect(value(families, 'bac_runs_completed_total', order)).toBe(3)
    expect(value(families, 'bac_runs_retried_total', { name: 'Flaky.ran' })).toBe(1)
    expect(value(families, 'bac_runs_completed_total', { name: 'Flaky.ran' })).toBe(1)
    expect(value(families, 'bac_runs_failed_total', { name: 'Broken.ran' })).toBe(1)
    expect(value(families, 'bac_dead_letters')).toBe(1)
    expect(value(families, 'bac_queue_depth')).toBe(0)
    expect(value(families, 'bac_runs_waiting')).toBe(1) // the trial asleep; the one due in a minute is not waiting yet
    // Runnable but not yet claimed: its handler allows one at a time, and one is running.
    let release: () => void = () => {}
    blocked = new Promise<void>((resolve) => {
      release = resolve
    })
    await rt.send($.Report.requested, {})
    await rt.send($.Report.requested, {})
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(value(parse(await rt.metrics.text()), 'bac_queue_depth')).toBe(1)
    release()
    expect(value(families, 'bac_circuit_breaker_state', { breaker: 'Broken.ran' })).toBe(2)
    expect(value(families, 'bac_cache_requests_total', { result: 'hit' })).toBe(1)
    expect(value(families, 'bac_cache_hit_ratio')).toBe(0.5)

    // (The parser folds a labelled summary into one sample; the snapshot below has each.)
    const durations = family(families, 'bac_run_duration_seconds')
    expect(durations.type).toBe('SUMMARY')
    expect(Object.keys(durations.metrics[0]?.quantiles ?? {})).toEqual(['0.5', '0.95', '0.99'])
    const snapshot = await rt.metrics.snapshot()
    const count = (metric: string, labels: Record<string, string>) =>
      snapshot
        .find((m) => m.name === metric)
        ?.values.find(
          (v) =>
            (v as { metricName?: string }).metricName === `${metric}_count` &&
            Object.entries(labels).every(([k, l]) => v.labels[k] === l),
        )?.value
    expect(count('bac_run_duration_seconds', { name: 'Order.placed' })).toBe(3)
    expect(count('bac_step_duration_seconds', { name: 'Order.placed', step: 'price' })).toBe(3)

    expect(family(families, 'orders_total')).toMatchObject({ type: 'COUNTER', help: 'Orders placed' })
    expect(value(families, 'orders_total', { channel: 'web' })).toBe(2)
    expect(value(families, 'orders_total', { channel: 'shop' })).toBe(1)
    expect(family(families, 'basket_size').metrics[0]?.buckets).toEqual({ '1': '1', '5': '2', '10': '3', '+Inf': '3' })
    // Declared but never recorded: scraped at zero from the start.
    expect(value(families, 'idle_gauge')).toBe(0)
    expect(snapshot.find((m) => m.name === 'orders_total')?.values).toEqual(
      expect.arrayContaining([expect.objectContaining({ labels: { channel: 'web' }, value: 2 })]),
    )
  })
})
