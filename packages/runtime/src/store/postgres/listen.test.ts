/**
 * Workers on PostgreSQL hear of new work at once (LISTEN/NOTIFY, sent at commit), not at their
 * next poll: a run sent through one runtime completes on another well inside the poll interval.
 * They survive dropped connections, and check their clocks against the database's.
 */
import { $, business, on } from '@bac/sdk'
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { realClock } from '../../clock/real-clock.ts'
import { jsonLogger } from '../../json-logger.ts'
import { createRuntime, type Runtime } from '../../runtime.ts'
import { announcePostgresSkip, freshPostgresUrl, POSTGRES_URL } from '../test-stores.fixture.ts'
import { postgres } from './postgres-store.ts'

beforeAll(announcePostgresSkip)

describe.skipIf(!POSTGRES_URL)('workers on PostgreSQL', () => {
  const runtimes: Runtime[] = []
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.stop()
  })

  it('are woken by a commit in another process, not by their poll', async () => {
    const url = await freshPostgresUrl()
    const finished: number[] = []
    const define = () => {
      on($.Ping.sent, () => {
        finished.push(Date.now())
      })
    }
    const open = async () => {
      const rt = await createRuntime({
        business: business('listen', define),
        store: postgres({ url }),
        logger: jsonLogger({ level: 'silent' }),
        pollInterval: 60_000, // a minute: only a notification can wake a worker in time
      })
      runtimes.push(rt)
      return rt
    }
    const worker = await open()
    await worker.start()
    const sender = await open() // never started: it only writes
    const latencies: number[] = []
    for (let i = 0; i < 5; i++) {
      // The worker is idle (its last run settled and its claims came up empty) before each send.
      await new Promise((resolve) => setTimeout(resolve, 200))
      const sent = Date.now()
      await sender.send($.Ping.sent, { i })
      while (finished.length <= i) await new Promise((resolve) => setTimeout(resolve, 5))
      latencies.push((finished[i] ?? 0) - sent)
    }
    expect(Math.max(...latencies)).toBeLessThan(1000)
    expect((await worker.health()).lagMs).toBe(0)
  })

  it('survive the server dropping their connections, pooled and listening', async () => {
    const url = `${await freshPostgresUrl()}&application_name=bac_drop_test`
    const done: number[] = []
    const define = () => {
      on($.Ping.sent, ({ i }: { i: number }) => {
        done.push(i)
      })
    }
    const rt = await createRuntime({
      business: business('drop', define),
      store: postgres({ url }),
      logger: jsonLogger({ level: 'silent' }),
      pollInterval: 60_000,
    })
    runtimes.push(rt)
    await rt.start()
    await rt.send($.Ping.sent, { i: 1 })
    while (done.length < 1) await new Promise((resolve) => setTimeout(resolve, 5))
    // What a server restart or failover does to a worker's connections.
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    const dropped = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'bac_drop_test'",
    )
    await admin.end()
    expect(dropped.rowCount).toBeGreaterThan(0)
    // Let the listener reconnect (backoff from 100 ms) and a claim that failed on its dropped
    // connection retry (1 s), so that nothing but a notification can wake the worker below.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    // Still alive, still claiming — and still woken by notifications: this event comes from
    // another runtime, and the worker's poll is a minute away.
    const sender = await createRuntime({
      business: business('drop', define), // a sender fans events out to the handlers it defines
      store: postgres({ url }),
      logger: jsonLogger({ level: 'silent' }),
    })
    runtimes.push(sender)
    const sent = Date.now()
    await sender.send($.Ping.sent, { i: 2 })
    while (done.length < 2 && Date.now() - sent < 2000) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(done).toEqual([1, 2])
  })

  it('check their clock against the database’s: a worker off by more than leases allow says so', async () => {
    const url = await freshPostgresUrl()
    const open = async (offsetMs: number) => {
      const logs: { message: string; skewMs?: number }[] = []
      const rt = await createRuntime({
        business: business('skew', () => {}),
        store: postgres({ url }),
        clock: { now: () => Date.now() + offsetMs, setTimer: realClock.setTimer },
        logger: jsonLogger({ level: 'warn', write: (line) => logs.push(JSON.parse(line)) }),
      })
      runtimes.push(rt)
      await rt.start()
      return { rt, logs }
    }
    const inStep = await open(0)
    expect(inStep.logs).toEqual([])
    expect(Math.abs((await inStep.rt.health()).clockSkewMs ?? Number.NaN)).toBeLessThan(1000)
    // A minute behind, with 30 s leases: it could take runs whose leases others still hold.
    const behind = await open(-60_000)
    const [warning] = behind.logs
    expect(warning?.message).toMatch(/clock is off the database’s/)
    expect(warning?.skewMs).toBeGreaterThan(59_000)
    expect((await behind.rt.health()).clockSkewMs).toBeGreaterThan(59_000)
  })
})
