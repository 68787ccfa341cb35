/**
 * What a full policy stack costs per run: the same handler, end to end (send → persisted →
 * claimed → one step → completed), bare and with retry, timeout, circuit breaker, rate limit
 * (never reached), keyed concurrency and fallback — each breaker and limit a store read and
 * write per run. Then a cached operation: a hit against a miss.
 *
 *   pnpm --filter @bac/bench policies [events] [synchronous: full|normal]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRuntime, jsonLogger } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { $, business, type HandlerInput, on, step } from '@bac/sdk'

const EVENTS = Number(process.argv[2] ?? 3000)
const SYNCHRONOUS = (process.argv[3] ?? 'normal') as 'full' | 'normal'
const dir = mkdtempSync(join(tmpdir(), 'bac-bench-policies-'))

const FULL_STACK: HandlerInput<{ n: number }> = {
  retry: { attempts: 5, initialDelay: '1s' },
  timeout: '30s',
  circuitBreaker: { threshold: 5, resetAfter: '30s' },
  rateLimit: { limit: 1_000_000, window: '1s', key: (p) => `k${p.n % 8}` },
  concurrency: { limit: 64, key: (p) => `k${p.n % 8}` },
  fallback: null,
}

/** Events per second through one handler with `options`. */
async function throughput(name: string, options: HandlerInput<{ n: number }>): Promise<number> {
  let done = 0
  let finish: () => void = () => {}
  const all = new Promise<void>((resolve) => {
    finish = resolve
  })
  const rt = await createRuntime({
    business: business('bench', () => {
      on(
        $.Bench.event,
        async (payload: { n: number }) => {
          await step('work', () => payload.n * 2)
          if (++done === EVENTS) finish()
        },
        options,
      )
    }),
    store: sqlite({ file: join(dir, `${name}.db`), synchronous: SYNCHRONOUS }),
    concurrency: 32,
    logger: jsonLogger({ level: 'error' }),
  })
  await rt.start()
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < EVENTS) await rt.send('Bench.event', { n: next++ })
    }),
  )
  await all
  const rate = EVENTS / ((performance.now() - started) / 1000)
  await rt.stop()
  return rate
}

/** Calls per second of an operation, every call a cache hit — or every one a miss. */
async function cachedCalls(hit: boolean): Promise<number> {
  const rt = await createRuntime({
    business: business('bench', () => {
      $.service({
        name: 'Prices',
        operations: { get: { handler: (id: number) => ({ id, price: id * 3 }), cache: '1h' } },
      })
    }),
    store: sqlite({ file: join(dir, `cache-${hit}.db`), synchronous: SYNCHRONOUS }),
    logger: jsonLogger({ level: 'error' }),
  })
  await rt.start()
  if (hit) await rt.send($.Prices.get, 1)
  const started = performance.now()
  for (let n = 0; n < EVENTS; n++) await rt.send($.Prices.get, hit ? 1 : n + 2)
  const rate = EVENTS / ((performance.now() - started) / 1000)
  await rt.stop()
  return rate
}

const bare = await throughput('bare', {})
const full = await throughput('full', FULL_STACK)
const miss = await cachedCalls(false)
const hit = await cachedCalls(true)
const fmt = (n: number) => n.toFixed(0).padStart(8)
console.log(`SQLite, synchronous=${SYNCHRONOUS}, ${EVENTS} events, node ${process.version}`)
console.log(`handler, no policies (events/s)        ${fmt(bare)}`)
console.log(`handler, full policy stack (events/s)  ${fmt(full)}`)
console.log(`ratio full / bare                      ${(full / bare).toFixed(3).padStart(8)}`)
console.log(`overhead per run                       ${((1 / full - 1 / bare) * 1e6).toFixed(0).padStart(8)} µs`)
console.log(`operation, cache miss (calls/s)        ${fmt(miss)}`)
console.log(`operation, cache hit (calls/s)         ${fmt(hit)}`)
console.log(`ratio hit / miss                       ${(hit / miss).toFixed(1).padStart(8)}`)
