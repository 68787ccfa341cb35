/**
 * The declared policies, on the virtual clock and a real store: circuit breakers (both modes,
 * half-open probe), rate limits, the result cache, fallback, timeouts, debounce, and where
 * policies come from (defaults < service < own). What runtimes on one store share is in
 * shared-state.test.ts.
 */
import { $, business, db, log, on, send, sleep } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type VirtualClock, virtualClock } from '../clock/virtual-clock.ts'
import { jsonLogger } from '../json-logger.ts'
import { createRuntime, type Runtime } from '../runtime.ts'
import { sqlite } from '../store/sqlite/sqlite-store.ts'
import { announcePostgresSkip, tempFile, testStores } from '../store/test-stores.fixture.ts'
import { testRuntime } from '../test-runtime.fixture.ts'
import { partner } from './partner.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('policies on $name', ({ make }) => {
  const runtimes: Runtime[] = []
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.stop()
  })
  const start = async (...args: Parameters<typeof testRuntime>) => {
    const t = await testRuntime(...args)
    runtimes.push(t.rt)
    return t
  }

  it('opens a breaker after N consecutive failures, half-opens after the reset time, closes on success', async () => {
    const api = partner()
    const { rt, clock } = await start(await make(), () => {
      $.service({
        name: 'Quotes',
        operations: {
          quote: {
            handler: (input: { id: string }) => api.call(input),
            retry: false,
            circuitBreaker: { threshold: 3, resetAfter: '30s' },
            fallback: (e: Error) => ({ fallback: e.message }),
          },
        },
      })
    })
    const quote = () => rt.send($.Quotes.quote, { id: 'q1' })
    for (let i = 0; i < 3; i++) expect(await quote()).toEqual({ fallback: 'partner is down' })
    expect(api.state.calls).toBe(3)
    expect((await rt.health()).breakers).toEqual({ 'Quotes.quote': 'open' })
    expect((await rt.health()).status).toBe('degraded')

    // Open: the fallback answers at once; the partner is not called.
    expect(await quote()).toEqual({ fallback: expect.stringContaining('circuit breaker "Quotes.quote" is open') })
    expect(api.state.calls).toBe(3)

    // After the reset time one probe goes through; it fails, so the breaker opens again.
    await clock.advance('30s')
    expect(await quote()).toEqual({ fallback: 'partner is down' })
    expect(api.state.calls).toBe(4)
    expect((await rt.health()).breakers['Quotes.quote']).toBe('open')

    // The next probe succeeds and closes it. (Past its reset time, health shows it half-open already.)
    await clock.advance('30s')
    expect((await rt.health()).breakers['Quotes.quote']).toBe('half-open')
    api.state.healthy = true
    expect(await quote()).toEqual({ ok: { id: 'q1' } })
    expect((await rt.health()).breakers['Quotes.quote']).toBe('closed')
    expect(await quote()).toEqual({ ok: { id: 'q1' } })
    expect(api.state.calls).toBe(6)
  })

  it('holds runs while their breaker is open (no fallback) and runs them after the probe', async () => {
    const api = partner()
    const { rt, clock } = await start(await make(), () => {
      on($.Ping.sent, (input) => api.call(input), { retry: false, circuitBreaker: { threshold: 1, resetAfter: '1m' } })
    })
    await rt.send($.Ping.sent, { n: 1 })
    await rt.drain()
    expect(await rt.dlq.list()).toHaveLength(1)
    await rt.send($.Ping.sent, { n: 2 })
    await rt.drain()
    const held = (await rt.runs.list()).find((r) => (r.input as { n: number }).n === 2)
    expect(held).toMatchObject({ status: 'waiting', failures: 0 })
    expect(api.state.calls).toBe(1)
    api.state.healthy = true
    await clock.advance('1m')
    await rt.drain()
    expect(await rt.runs.get(held?.id ?? '')).toMatchObject({ status: 'completed', result: { ok: { n: 2 } } })
  })

  it('opens an error-rate breaker once enough calls fail in the window', async () => {
    let fail = false
    const { rt } = await start(await make(), () => {
      $.service({
        name: 'Rates',
        operations: {
          get: {
            handler: () => {
              if (fail) throw new Error('503')
              return 1
            },
            retry: false,
            circuitBreaker: { mode: 'error-rate', rate: 0.5, minimumCalls: 4, window: '1m', resetAfter: '10s' },
            fallback: -1,
          },
        },
      })
    })
    const get = () => rt.send($.Rates.get, {})
    expect([await get(), await get()]).toEqual([1, 1])
    fail = true
    expect(await get()).toBe(-1)
    expect((await rt.health()).breakers['Rates.get']).toBe('closed') // 1 of 3: under the minimum
    expect(await get()).toBe(-1)
    expect((await rt.health()).breakers['Rates.get']).toBe('open') // 2 of 4 failed
  })

  it('makes a rate-limited key wait for its budget while other keys go on', async () => {
    const ran: string[] = []
    const { rt, clock } = await start(await make(), () => {
      on(
        $.Email.requested,
        async ({ customer, n }: { customer: string; n: number }) => {
          ran.push(`${customer}${n} at ${new Date(clock.now()).toISOString().slice(11, 19)}`)
        },
        { rateLimit: { limit: 2, window: '1m', key: (p: { customer: string }) => p.customer } },
      )
    })
    for (const [customer, n] of [
      ['a', 1],
      ['a', 2],
      ['a', 3],
      ['b', 1],
    ] as const)
      await rt.send($.Email.requested, { customer, n })
    await rt.drain()
    // Which of a's three gets the last token is up to the claim order (concurrent on PostgreSQL).
    expect(ran.map((r) => r.replace(/^a\d/, 'a')).sort()).toEqual(['a at 08:00:00', 'a at 08:00:00', 'b1 at 08:00:00'])
    const waiting = await rt.runs.list({ status: 'waiting' })
    expect(waiting).toHaveLength(1)
    // A token comes back every 30 s (2 per minute).
    await clock.advance('29s')
    await rt.drain()
    expect(ran).toHaveLength(3)
    await clock.advance('1s')
    await rt.drain()
    expect(ran).toHaveLength(4)
    expect(ran[3]).toMatch(/^a\d at 08:00:30$/)
  })

  it('gives waiting runs successive slots: each is held once, not woken to fight over every token', async () => {
    const ran: number[] = []
    const { rt, clock } = await start(await make(), () => {
      on($.Job.queued, () => ran.push(clock.now()), { rateLimit: { limit: 1, window: '10s' } })
    })
    const began = clock.now()
    for (let i = 0; i < 6; i++) await rt.send($.Job.queued, { i })
    await rt.drain()
    for (let i = 0; i < 6; i++) {
      await clock.advance('10s')
      await rt.drain()
    }
    expect(ran.map((at) => (at - began) / 1000)).toEqual([0, 10, 20, 30, 40, 50])
    const runs = await rt.runs.list()
    // One execution to book a slot, one to run in it (the first needed no booking).
    expect(runs.reduce((sum, r) => sum + r.attempt, 0)).toBe(1 + 5 * 2)
  })

  it('fails over the limit with a RateLimitError carrying retryAfter, when asked to', async () => {
    const { rt } = await start(await make(), () => {
      $.service({
        name: 'Sms',
        operations: {
          send: {
            handler: () => 'sent',
            rateLimit: { limit: 1, window: '10s', onLimit: 'fail', algorithm: 'sliding-window' },
          },
        },
      })
    })
    expect(await rt.send($.Sms.send, {})).toBe('sent')
    const error = await rt.send($.Sms.send, {}).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'RateLimitError', code: 'BAC_RATE_LIMITED', retryAfter: 10_000 })
  })

  it('takes a rate-limit token once per call, even when the caller replays it', async () => {
    const { rt, clock } = await start(await make(), () => {
      $.service({
        name: 'Sms',
        operations: {
          send: {
            handler: async () => {
              await sleep('1s')
              return 'sent'
            },
            rateLimit: { limit: 1, window: '1m', onLimit: 'fail' },
          },
        },
      })
      on($.Signup.done, () => send($.Sms.send, {}), { retry: false })
    })
    await rt.send($.Signup.done, {})
    await rt.drain()
    await clock.advance('1s')
    await rt.drain()
    expect((await rt.runs.list()).map((r) => [r.kind, r.status])).toEqual(
      expect.arrayContaining([
        ['handler', 'completed'],
        ['operation', 'completed'],
      ]),
    )
    // A repeated idempotency key gets the first call's result, not a RateLimitError.
    await clock.advance('1m')
    const first = rt.send($.Sms.send, {}, { idempotencyKey: 'k1' })
    while ((await rt.runs.list({ status: 'waiting' })).length === 0) await new Promise((r) => setTimeout(r, 5))
    await clock.advance('1s')
    await rt.drain()
    expect(await first).toBe('sent')
    expect(await rt.send($.Sms.send, {}, { idempotencyKey: 'k1' })).toBe('sent')
    await expect(rt.send($.Sms.send, {}, { idempotencyKey: 'k2' })).rejects.toThrow('rate limit of "Sms.send:" reached')
  })

  it('fails a call for good, naming cache.key, when its cache key cannot be computed', async () => {
    let runs = 0
    const { rt } = await start(await make(), () => {
      $.service({
        name: 'Prices',
        operations: {
          quote: {
            handler: () => ++runs,
            cache: { ttl: '1m', key: (p: { sku: { id: string } }) => p.sku.id },
          },
        },
      })
      on($.Quote.wanted, (p: unknown) => send($.Prices.quote, p), { retry: { attempts: 3, initialDelay: '1s' } })
    })
    await expect(rt.send($.Prices.quote, { nothing: true })).rejects.toMatchObject({
      name: 'PolicyKeyError',
      message: expect.stringMatching(/^cache.key of "Prices.quote" threw on its input: /),
    })
    await rt.send($.Quote.wanted, { nothing: true })
    await rt.drain()
    const [caller] = await rt.runs.list({ name: 'Quote.wanted' })
    expect(caller).toMatchObject({ status: 'failed', attempt: 1 }) // not retried: no retry can help
    expect(runs).toBe(0)
  })

  it('fails a run for good when its rate-limit key cannot be computed from its input', async () => {
    const { rt } = await start(await make(), () => {
      on($.Email.requested, () => {}, {
        rateLimit: { limit: 10, window: '1m', key: (p: { customer: { id: string } }) => p.customer.id },
      })
    })
    await rt.send($.Email.requested, { nobody: true })
    await rt.drain()
    const [run] = await rt.runs.list()
    expect(run).toMatchObject({ status: 'failed', attempt: 1 })
    const [dead] = await rt.dlq.list()
    expect(dead?.error.message).toMatch(/^rateLimit.key of handler "Email.requested" threw on its input: /)
  })

  it('caches an operation’s result: runs once per input, skips on request, forgets on invalidation or a db write', async () => {
    let runs = 0
    let service: { cache: { invalidate(key: string): Promise<number> } } | undefined
    const { rt, clock } = await start(await make(), () => {
      service = $.service({
        name: 'Catalog',
        operations: {
          price: {
            handler: async ({ id }: { id: string }) => {
              runs++
              const product = await db.get('Product', id)
              return { id, price: product?.price ?? 0 }
            },
            cache: {
              ttl: '5m',
              key: ({ id }: { id: string }) => `products:${id}`,
              tags: ({ id }: { id: string }) => [`Product:${id}`],
            },
          },
        },
      })
    })
    await rt.db.upsert('Product', { $id: 'p1', price: 10 })
    await rt.db.upsert('Product', { $id: 'p2', price: 20 })
    await clock.advance('1s') // results computed from here on began after the writes
    const price = (id: string, options = {}) => rt.send($.Catalog.price, { id }, options)
    expect(await price('p1')).toEqual({ id: 'p1', price: 10 })
    expect(await price('p1')).toEqual({ id: 'p1', price: 10 })
    expect(runs).toBe(1)
    expect(await price('p2')).toEqual({ id: 'p2', price: 20 })
    expect(runs).toBe(2)
    await price('p1', { cache: 'skip' })
    expect(runs).toBe(3)

    expect(await rt.cache.invalidate('products:p1')).toBe(1)
    await price('p1')
    expect(runs).toBe(4)
    expect(await rt.run(() => service?.cache.invalidate('products:p1'))).toBe(1) // the service object's control
    await price('p1')
    expect(runs).toBe(5)
    expect(await rt.cache.invalidatePattern('products:*')).toBe(2)
    await price('p1')
    await price('p2')
    expect(runs).toBe(7)

    // A db write to the document a result is tagged with drops it.
    await rt.db.update('Product', 'p1', { price: 12 })
    await clock.advance('1s')
    expect(await price('p1')).toEqual({ id: 'p1', price: 12 })
    expect(runs).toBe(8)
    await price('p2')
    expect(runs).toBe(8)

    await clock.advance('6m')
    await price('p2')
    expect(runs).toBe(9)
    const text = await rt.metrics.text()
    expect(text).toMatch(/bac_cache_requests_total\{result="hit"\} \d+/)
  })

  it('answers with the fallback when the primary times out, given the error', async () => {
    let attempts = 0
    const { rt, clock } = await start(await make(), () => {
      $.service({
        name: 'Shipping',
        operations: {
          estimate: {
            handler: () => {
              attempts++
              return new Promise(() => {}) // never answers
            },
            timeout: '2s',
            retry: { attempts: 2, initialDelay: '1s', jitter: false },
            fallback: (error: Error, input: { zip: string }) => ({ days: 5, zip: input.zip, because: error.message }),
          },
        },
      })
    })
    const answer = rt.send($.Shipping.estimate, { zip: '10115' })
    await clock.advance('2s') // the first attempt times out; the retry waits 1 s
    await clock.advance('1s')
    await clock.advance('2s') // the second attempt times out too: no retries left
    expect(await answer).toEqual({
      days: 5,
      zip: '10115',
      because: 'operation "Shipping.estimate" timed out after 2000 ms',
    })
    expect(attempts).toBe(2)
    expect(await rt.dlq.list()).toEqual([])
  })

  it('debounces a burst of events into one run with the last payload, no later than maxWait', async () => {
    const seen: unknown[] = []
    const { rt, clock } = await start(await make(), () => {
      on($.Doc.edited, (doc: { id: string; rev: number }) => seen.push({ ...doc, at: clock.now() }), {
        debounce: { wait: '10s', maxWait: '30s', key: (d: { id: string }) => d.id },
      })
    })
    const began = clock.now()
    for (let rev = 1; rev <= 3; rev++) {
      await rt.send($.Doc.edited, { id: 'd1', rev })
      await clock.advance('4s')
    }
    await rt.send($.Doc.edited, { id: 'd2', rev: 1 })
    await clock.advance('10s')
    await rt.drain()
    expect(seen).toEqual([
      { id: 'd1', rev: 3, at: began + 18_000 },
      { id: 'd2', rev: 1, at: began + 22_000 },
    ])
    // Edits every 5 s never leave 10 s of quiet: maxWait lets it through 30 s after the first.
    seen.length = 0
    const burst = clock.now()
    for (let rev = 1; rev <= 8; rev++) {
      await rt.send($.Doc.edited, { id: 'd3', rev })
      await clock.advance('5s')
      await rt.drain()
    }
    expect(seen).toEqual([{ id: 'd3', rev: 6, at: burst + 30_000 }])
  })

  it('takes the nearest policy: own over service over runtime defaults', async () => {
    let clock: VirtualClock | undefined
    const delay = (ms: number) => new Promise((resolve) => clock?.setTimer(() => resolve('done'), ms))
    const t = await start(
      await make(),
      () => {
        $.service({
          name: 'Slow',
          timeout: '5s',
          priority: 'high',
          operations: {
            service: () => delay(3000),
            own: { handler: () => delay(3000), timeout: '1s' },
          },
        })
        on($.Work.queued, () => delay(3000))
      },
      { defaults: { retry: false, timeout: '2s', priority: 'low' } },
    )
    clock = t.clock
    const rt = t.rt
    const service = rt.send($.Slow.service, {})
    const own = rt.send($.Slow.own, {}).catch((e: Error) => e.message)
    await rt.send($.Work.queued, {})
    const drained = rt.drain()
    await t.clock.advance('3s')
    await drained
    expect(await service).toBe('done')
    expect(await own).toBe('operation "Slow.own" timed out after 1000 ms')
    expect((await rt.runs.list({ kind: 'operation' })).map((r) => r.priority)).toEqual([10, 10])
    const [handler] = await rt.runs.list({ kind: 'handler' })
    expect(handler?.priority).toBe(-10)
    expect(handler).toMatchObject({
      status: 'failed',
      error: { message: expect.stringContaining('timed out after 2000 ms') },
    })
  })

  it('writes log lines with run, service and operation, and redacts personal fields', async () => {
    const { rt, logs } = await start(await make(), () => {
      $.service({
        name: 'Signup',
        operations: {
          register: (user: { email: string; password: string }) => {
            log.info('registering', { user, tokens: 12, note: 'paid with 4242 4242 4242 4242' })
            return 'ok'
          },
          welcome: {
            handler: (user: { email: string }) => {
              throw new Error(`no mailbox for ${user.email}`)
            },
            retry: false,
          },
        },
      })
    })
    await rt.send($.Signup.register, { email: 'ann@example.com', password: 'hunter2' })
    const line = logs.find((l) => l.message === 'registering')
    expect(line).toMatchObject({
      level: 'info',
      run: expect.any(String),
      correlation: expect.any(String),
      service: 'Signup',
      operation: 'Signup.register',
      user: { email: '[redacted]', password: '[redacted]' },
      tokens: 12,
      note: 'paid with **** 4242',
    })
    await rt.send($.Signup.welcome, { email: 'ann@example.com' }).catch(() => {})
    expect(logs.find((l) => l.message === 'run failed; moved to the dead-letter queue')).toMatchObject({
      error: 'no mailbox for [email]',
    })
    const everything = JSON.stringify(logs)
    expect(everything).not.toContain('ann@example.com')
    expect(everything).not.toContain('hunter2')
    expect(everything).not.toContain('4242 4242 4242 4242')
  })
})

describe('the result cache and db writes', () => {
  let gate: Promise<void> | undefined
  const define = () => {
    $.service({
      name: 'Catalog',
      operations: {
        price: {
          handler: async ({ id }: { id: string }) => {
            const product = await db.get('Product', id)
            if (gate) await gate
            return { price: (product as { price?: number } | null)?.price ?? 0 }
          },
          cache: {
            ttl: '5m',
            key: ({ id }: { id: string }) => `products:${id}`,
            tags: ({ id }: { id: string }) => [`Product:${id}`],
          },
        },
      },
    })
  }
  const open = (file: string, clock: VirtualClock) =>
    createRuntime({
      business: business('cache', define),
      store: sqlite({ file }),
      clock,
      logger: jsonLogger({ level: 'silent' }),
    })

  it('does not cache a result computed from a document written while it ran', async () => {
    const clock = virtualClock('2026-04-01T00:00:00Z')
    const rt = await open(tempFile(), clock)
    try {
      await rt.db.upsert('Product', { $id: 'p1', price: 10 })
      await clock.advance('1s')
      let release: () => void = () => {}
      gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const slow = rt.send($.Catalog.price, { id: 'p1' })
      await new Promise((resolve) => setTimeout(resolve, 50))
      await rt.db.update('Product', 'p1', { price: 12 }) // while the slow one holds the old price
      release()
      gate = undefined
      expect(await slow).toEqual({ price: 10 })
      await clock.advance('1m')
      expect(await rt.send($.Catalog.price, { id: 'p1' })).toEqual({ price: 12 })
    } finally {
      gate = undefined
      await rt.stop()
    }
  })

  it('lets another worker serve a dropped entry from its own memory for at most a second', async () => {
    const file = tempFile()
    const clock = virtualClock('2026-04-01T00:00:00Z')
    const a = await open(file, clock)
    const b = await open(file, clock)
    try {
      await a.db.upsert('Product', { $id: 'p1', price: 10 })
      await clock.advance('1s')
      expect(await b.send($.Catalog.price, { id: 'p1' })).toEqual({ price: 10 })
      await a.db.update('Product', 'p1', { price: 12 })
      expect(await a.send($.Catalog.price, { id: 'p1' })).toEqual({ price: 12 })
      await clock.advance('1s')
      expect(await b.send($.Catalog.price, { id: 'p1' })).toEqual({ price: 12 })
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
