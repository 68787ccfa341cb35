/**
 * The policy values for code of your own: composed with `wrap`, on the virtual clock; and
 * `rt.policies`, whose breakers and limits live in the store like the declared ones.
 */
import { $, NonRetryableError } from '@bac/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { virtualClock } from '../clock/virtual-clock.ts'
import type { Runtime } from '../runtime.ts'
import { sqlite } from '../store/sqlite/sqlite-store.ts'
import { tempFile } from '../store/test-stores.fixture.ts'
import { testRuntime } from '../test-runtime.fixture.ts'
import { BulkheadRejectedError, bulkhead } from './bulkhead.ts'
import { BrokenCircuitError } from './circuit-breaker.ts'
import { fallback } from './fallback.ts'
import { wrap } from './policy.ts'
import { RateLimitError } from './rate-limiter.ts'
import { retry } from './retry.ts'
import { timeout } from './timeout.ts'

describe('policy values', () => {
  it('compose outermost first: a fallback around retries around a timeout', async () => {
    const clock = virtualClock()
    let calls = 0
    const signals: AbortSignal[] = []
    const careful = wrap(
      fallback((error: Error) => `fallback after ${error.message}`),
      retry(clock, { attempts: 3, initialDelay: 100, jitter: false }),
      timeout(clock, 1000),
    )
    const answer = careful.execute(({ signal }) => {
      calls++
      if (signal) signals.push(signal)
      return new Promise(() => {})
    })
    for (let i = 0; i < 3; i++) await clock.advance(1100)
    expect(await answer).toBe('fallback after the call timed out after 1000 ms')
    expect(calls).toBe(3)
    expect(signals.every((s) => s.aborted)).toBe(true)
  })

  it('retry stops at a non-retryable error', async () => {
    let calls = 0
    const policy = retry(virtualClock(), { attempts: 5 })
    await expect(
      policy.execute(() => {
        calls++
        throw new NonRetryableError('card declined')
      }),
    ).rejects.toThrow('card declined')
    expect(calls).toBe(1)
  })

  it('bulkhead runs at most `limit` at once, queues `queue` more and rejects the rest', async () => {
    const pool = bulkhead(2, 1)
    let running = 0
    let peak = 0
    const releases: (() => void)[] = []
    const task = () =>
      pool.execute(async () => {
        peak = Math.max(peak, ++running)
        await new Promise<void>((resolve) => releases.push(resolve))
        running--
      })
    const tasks = [task(), task(), task()]
    await expect(task()).rejects.toBeInstanceOf(BulkheadRejectedError)
    await new Promise((resolve) => setImmediate(resolve))
    expect(releases).toHaveLength(2)
    releases.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
    for (const release of releases.splice(0)) release()
    await new Promise((resolve) => setImmediate(resolve))
    for (const release of releases.splice(0)) release()
    await Promise.all(tasks)
    expect(peak).toBe(2)
  })
})

describe('rt.policies', () => {
  let rt: Runtime | undefined
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  it('gives breakers and rate limits that share the store state of declared ones', async () => {
    const t = await testRuntime(sqlite({ file: tempFile() }), () => {
      $.service({
        name: 'Partner',
        operations: {
          request: {
            handler: () => 'declared',
            circuitBreaker: { name: 'partner-api' },
            retry: false,
            fallback: 'fallback',
          },
        },
      })
    })
    rt = t.rt
    const breaker = rt.policies.circuitBreaker('partner-api', { threshold: 2, resetAfter: '1m' })
    for (let i = 0; i < 2; i++)
      await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down')
    await expect(breaker.execute(() => 'never')).rejects.toBeInstanceOf(BrokenCircuitError)
    expect((await rt.health()).breakers).toEqual({ 'partner-api': 'open' })
    expect(await rt.send($.Partner.request, {})).toBe('fallback')

    const limit = rt.policies.rateLimit('exports', { limit: 1, window: '1h', onLimit: 'fail' })
    expect(await limit.execute(() => 'first')).toBe('first')
    const error = await limit.execute(() => 'second').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as RateLimitError).retryAfter).toBe(3_600_000)

    const waiting = rt.policies.rateLimit('reports', { limit: 1, window: '10s' })
    await waiting.execute(() => 1)
    let done = false
    const second = waiting.execute(() => {
      done = true
    })
    await t.clock.advance('9s')
    expect(done).toBe(false)
    await t.clock.advance('1s')
    await second
    expect(done).toBe(true)
  })

  it('checks their options like declarations do', async () => {
    const t = await testRuntime(sqlite({ file: tempFile() }), () => {})
    rt = t.rt
    expect(() => t.rt.policies.rateLimit('x', { limit: 0, window: '1s' })).toThrow(/limit/)
    expect(() => t.rt.policies.timeout('soon' as never)).toThrow(/rt.policies.timeout\(\)/)
  })
})
