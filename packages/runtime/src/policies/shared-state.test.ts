/**
 * What workers on one store share through it, so that N workers behave as one: circuit
 * breakers, rate limits and the result cache. Two runtimes on one SQLite file, and two on one
 * PostgreSQL database (separate pools, as separate processes would have).
 */
import { $, business } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type VirtualClock, virtualClock } from '../clock/virtual-clock.ts'
import { jsonLogger } from '../json-logger.ts'
import { createRuntime, type Runtime } from '../runtime.ts'
import { postgres } from '../store/postgres/postgres-store.ts'
import { sqlite } from '../store/sqlite/sqlite-store.ts'
import { announcePostgresSkip, freshPostgresUrl, POSTGRES_URL, tempFile } from '../store/test-stores.fixture.ts'
import { BrokenCircuitError } from './circuit-breaker.ts'
import { partner } from './partner.fixture.ts'

beforeAll(announcePostgresSkip)

const locations = [
  { name: 'SQLite', where: async () => tempFile() },
  ...(POSTGRES_URL ? [{ name: 'PostgreSQL', where: () => freshPostgresUrl() }] : []),
]

describe.each(locations)('two runtimes on one $name store', ({ where }) => {
  const runtimes: Runtime[] = []
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.stop()
  })

  /** A runtime on `location` (one more worker of it), on the shared virtual clock. */
  const open = async (location: string, clock: VirtualClock, define: () => void) => {
    const rt = await createRuntime({
      business: business('shared', define),
      store: location.startsWith('postgres') ? postgres({ url: location }) : sqlite({ file: location }),
      clock,
      logger: jsonLogger({ level: 'silent' }),
    })
    runtimes.push(rt)
    return rt
  }

  it('share a circuit breaker: open for both once one trips it, closed for both after one probes', async () => {
    const location = await where()
    const clock = virtualClock('2026-04-01T00:00:00Z')
    const api = partner()
    const define = () => {
      $.service({
        name: 'Bank',
        operations: {
          pay: {
            handler: (input: unknown) => api.call(input),
            retry: false,
            circuitBreaker: { threshold: 2, resetAfter: '1m' },
            fallback: (e: Error) => e.name,
          },
        },
      })
    }
    const a = await open(location, clock, define)
    const b = await open(location, clock, define)
    await a.send($.Bank.pay, {})
    await a.send($.Bank.pay, {})
    expect((await b.health()).breakers).toEqual({ 'Bank.pay': 'open' })
    expect(await b.send($.Bank.pay, {})).toBe(BrokenCircuitError.name)
    expect(api.state.calls).toBe(2)
    await clock.advance('1m')
    api.state.healthy = true
    expect(await b.send($.Bank.pay, { n: 3 })).toEqual({ ok: { n: 3 } })
    expect((await a.health()).breakers).toEqual({ 'Bank.pay': 'closed' })
    expect(await a.send($.Bank.pay, { n: 4 })).toEqual({ ok: { n: 4 } })
  })

  it('keep an open breaker open across a restart', async () => {
    const location = await where()
    const clock = virtualClock('2026-04-01T00:00:00Z')
    const define = () => {
      $.service({
        name: 'Flaky',
        operations: {
          go: {
            handler: () => Promise.reject(new Error('no')),
            retry: false,
            circuitBreaker: { threshold: 1 },
            fallback: null,
          },
        },
      })
    }
    const first = await open(location, clock, define)
    expect(await first.send($.Flaky.go, {})).toBeNull()
    await first.stop()
    const second = await open(location, clock, define)
    expect((await second.health()).breakers).toEqual({ 'Flaky.go': 'open' })
  })

  it('share a rate limit: its tokens are taken from one budget, whichever worker runs the call', async () => {
    const location = await where()
    const clock = virtualClock('2026-04-01T00:00:00Z')
    let sent = 0
    const define = () => {
      $.service({
        name: 'Sms',
        operations: {
          send: {
            handler: () => ++sent,
            rateLimit: { limit: 3, window: '1m', onLimit: 'fail' },
          },
        },
      })
    }
    const a = await open(location, clock, define)
    const b = await open(location, clock, define)
    await a.send($.Sms.send, {})
    await b.send($.Sms.send, {})
    await a.send($.Sms.send, {})
    await expect(b.send($.Sms.send, {})).rejects.toMatchObject({ name: 'RateLimitError', retryAfter: 20_000 })
    await expect(a.send($.Sms.send, {})).rejects.toMatchObject({ name: 'RateLimitError' })
    expect(sent).toBe(3)
    await clock.advance('20s') // one token back (3 a minute)
    expect(await b.send($.Sms.send, {})).toBe(4)
    await expect(a.send($.Sms.send, {})).rejects.toMatchObject({ name: 'RateLimitError' })
  })

  it('take no more tokens than the budget holds when they call at the same moment', async () => {
    const location = await where()
    const clock = virtualClock('2026-04-01T00:00:00Z')
    let sent = 0
    const define = () => {
      $.service({
        name: 'Sms',
        operations: { send: { handler: () => ++sent, rateLimit: { limit: 5, window: '1h', onLimit: 'fail' } } },
      })
    }
    const workers = [await open(location, clock, define), await open(location, clock, define)]
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => workers[i % 2]?.send($.Sms.send, { i })),
    )
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
    expect(sent).toBe(5)
  })

  it('share the result cache: one computes, the other reads it, and an invalidation on either reaches both', async () => {
    const location = await where()
    const clock = virtualClock('2026-04-01T00:00:00Z')
    let computed = 0
    const define = () => {
      $.service({
        name: 'Catalog',
        operations: {
          price: {
            handler: ({ id }: { id: string }) => ({ id, price: 10, computed: ++computed }),
            cache: { ttl: '5m', key: ({ id }: { id: string }) => `products:${id}` },
          },
        },
      })
    }
    const a = await open(location, clock, define)
    const b = await open(location, clock, define)
    expect(await a.send($.Catalog.price, { id: 'p1' })).toEqual({ id: 'p1', price: 10, computed: 1 })
    expect(await b.send($.Catalog.price, { id: 'p1' })).toEqual({ id: 'p1', price: 10, computed: 1 })
    expect(computed).toBe(1)
    expect(await b.cache.invalidate('products:p1')).toBe(1)
    // A worker's in-memory copy of an entry lives at most a second (l1); past it, a reads the store.
    await clock.advance('1s')
    expect(await a.send($.Catalog.price, { id: 'p1' })).toEqual({ id: 'p1', price: 10, computed: 2 })
    expect(await b.send($.Catalog.price, { id: 'p1' })).toEqual({ id: 'p1', price: 10, computed: 2 })
  })
})
