/**
 * What survives a runtime stopping and another starting on the same store: sleeping and
 * waiting runs, runs a stop cut short, schedule ticks (caught up once, never doubled).
 */
import { $, business, every, on, sleep, step, waitForEvent } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { realClock } from './clock/real-clock.ts'
import { type VirtualClock, virtualClock } from './clock/virtual-clock.ts'
import { jsonLogger } from './json-logger.ts'
import { createRuntime, type Runtime } from './runtime.ts'
import { postgres } from './store/postgres/postgres-store.ts'
import { sqlite } from './store/sqlite/sqlite-store.ts'
import { announcePostgresSkip, freshPostgresUrl, POSTGRES_URL, tempFile } from './store/test-stores.fixture.ts'

beforeAll(announcePostgresSkip)

const locations = [
  { name: 'sqlite', where: async () => tempFile() },
  ...(POSTGRES_URL ? [{ name: 'postgres', where: () => freshPostgresUrl() }] : []),
]

describe.each(locations)('restarting on $name', ({ where }) => {
  const runtimes: Runtime[] = []
  afterEach(async () => {
    for (const rt of runtimes.splice(0)) await rt.stop()
  })

  const open = async (location: string, define: () => void, clock: VirtualClock | typeof realClock, options = {}) => {
    const rt = await createRuntime({
      business: business('restart', define),
      store: location.startsWith('postgres')
        ? postgres({ url: location })
        : sqlite({ file: location, synchronous: 'normal' }),
      clock,
      logger: jsonLogger({ level: 'silent' }),
      random: () => 0.5,
      ...options,
    })
    runtimes.push(rt)
    await rt.start()
    return rt
  }

  it('resumes sleeping and waiting runs in the next runtime', async () => {
    const location = await where()
    const clock = virtualClock('2026-05-01T00:00:00Z')
    const bodies: string[] = []
    const define = () => {
      on($.Trial.started, async () => {
        await step('welcome', () => bodies.push('welcome'))
        await sleep('1d')
        await step('nudge', () => bodies.push('nudge'))
      })
      on($.Order.placed, async () => {
        const paid = await waitForEvent($.Order.paid, { timeout: '2d' })
        await step('ship', () => bodies.push(`ship ${JSON.stringify(paid)}`))
      })
    }
    const first = await open(location, define, clock)
    await first.send($.Trial.started, {})
    await first.send($.Order.placed, {})
    await first.drain()
    await first.stop()
    runtimes.pop()

    const second = await open(location, define, clock)
    await second.send($.Order.paid, { amount: 5 })
    await clock.advance('1d')
    await second.drain()
    expect(bodies).toEqual(['welcome', 'ship {"amount":5}', 'nudge'])
    expect((await second.runs.list()).every((r) => r.status === 'completed')).toBe(true)
  })

  it('stop() lets executing runs finish within the grace period and releases the rest', async () => {
    const location = await where()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const done: string[] = []
    const define = () => {
      on($.Quick.job, async () => {
        done.push('quick')
      })
      on($.Slow.job, async (_, ctx) => {
        await step('first half', () => 'half')
        await gate
        // The stopped runtime aborted this attempt's signal; cooperative code stops here.
        done.push(ctx.signal?.aborted ? 'slow (aborted)' : 'slow')
      })
    }
    const first = await open(location, define, realClock, { shutdownGrace: 200 })
    await first.send($.Quick.job, {})
    await first.send($.Slow.job, {})
    // Until the quick one is done and the slow one is under way (its first step stored).
    const underWay = async () => {
      const [slowRun] = await first.runs.list({ name: 'Slow.job' })
      return done.length > 0 && slowRun !== undefined && ((await first.runs.get(slowRun.id))?.steps.length ?? 0) > 0
    }
    for (let i = 0; i < 300 && !(await underWay()); i++) await new Promise((r) => setTimeout(r, 10))
    await first.stop()
    runtimes.pop()
    expect(done).toEqual(['quick'])

    release()
    const second = await open(location, define, realClock)
    await second.drain()
    const slow = (await second.runs.list({ name: 'Slow.job' }))[0]
    expect(slow).toMatchObject({ status: 'completed', attempt: 2, failures: 0 })
    expect(done.sort()).toEqual(['quick', 'slow', 'slow (aborted)'])
    expect((await second.runs.get(slow?.id ?? ''))?.steps.map((s) => s.key)).toEqual(['first half'])
  })

  it('stop() lets a step body already running finish and stores it, so the next runtime does not run it again', async () => {
    const location = await where()
    const bodies: string[] = []
    const define = () => {
      on($.Report.requested, async () => {
        await step('render', async () => {
          bodies.push('render')
          await new Promise((resolve) => setTimeout(resolve, 300))
          return 'pdf'
        })
        await step('mail', () => bodies.push('mail'))
      })
    }
    const first = await open(location, define, realClock, { shutdownGrace: 50 })
    await first.send($.Report.requested, {})
    for (let i = 0; i < 300 && bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    await first.stop() // the grace ends while render runs; render still ends and is stored
    runtimes.pop()
    const second = await open(location, define, realClock)
    await second.drain()
    expect(bodies).toEqual(['render', 'mail'])
    const [report] = await second.runs.list()
    expect(report).toMatchObject({ status: 'completed', attempt: 2, failures: 0 })
  })

  it('after downtime fires a schedule once for its latest tick and records the missed ones', async () => {
    const location = await where()
    const clock = virtualClock('2026-05-01T09:00:30Z')
    const ticks: string[] = []
    const define = () => {
      every('minute', function everyMinute({ scheduledAt }) {
        ticks.push(scheduledAt.toISOString())
      })
    }
    const first = await open(location, define, clock)
    await clock.advance('1m')
    await first.drain()
    await first.stop()
    runtimes.pop()
    expect(ticks).toEqual(['2026-05-01T09:01:00.000Z'])

    await clock.advance('10m')
    const second = await open(location, define, clock)
    await second.drain()
    expect(ticks).toEqual(['2026-05-01T09:01:00.000Z', '2026-05-01T09:11:00.000Z'])
    const [schedule] = await second.store.listSchedules()
    expect(schedule).toMatchObject({ name: 'everyMinute', missed: 9, nextAt: Date.parse('2026-05-01T09:12:00Z') })
  })

  it('fires each tick once when two runtimes share the store', async () => {
    const location = await where()
    const clock = virtualClock('2026-05-01T09:00:30Z')
    const ticks: string[] = []
    const define = () => {
      every('minute', function shared({ scheduledAt }) {
        ticks.push(scheduledAt.toISOString())
      })
    }
    const a = await open(location, define, clock)
    const b = await open(location, define, clock)
    await clock.advance('5m')
    await Promise.all([a.drain(), b.drain()])
    expect(ticks.sort()).toEqual([1, 2, 3, 4, 5].map((m) => `2026-05-01T09:0${m}:00.000Z`))
  })

  it('keeps claiming without drain() on the wall clock: no wake-up is lost under load', async () => {
    const location = await where()
    let done = 0
    const rt = await open(
      location,
      () => {
        on($.Load.item, async () => {
          await step('work', () => 1)
          done++
        })
      },
      realClock,
      { concurrency: 4 },
    )
    for (let i = 0; i < 300; i++) await rt.send($.Load.item, { i })
    for (let i = 0; i < 500 && done < 300; i++) await new Promise((r) => setTimeout(r, 20))
    expect(done).toBe(300)
  })
})
