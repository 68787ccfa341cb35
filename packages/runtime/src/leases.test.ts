/**
 * A worker keeps a run only while its lease holds: its code is aborted when another worker has
 * taken the run, and — when the store cannot be reached to renew — before the lease runs out,
 * so two workers never run one run's code side by side. A worker starting takes back at once
 * the leases of dead processes on its own machine.
 */
import { hostname } from 'node:os'
import { $, on } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { deadOwners, newWorkerId, pidSpace } from './dead-workers.ts'
import type { Runtime } from './runtime.ts'
import { announcePostgresSkip, testStores } from './store/test-stores.fixture.ts'
import { testRuntime } from './test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('leases on $name', ({ makeWithSql }) => {
  let rt: Runtime | undefined
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  /** A handler that runs until its signal is aborted, and says why it was. */
  const untilAborted = (reasons: string[]) => () =>
    on($.Job.queued, (_job: unknown, ctx) => {
      const signal = ctx.signal as AbortSignal
      return new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          reasons.push((signal.reason as Error).message)
          resolve()
        }),
      )
    })

  const running = async (runtime: Runtime) => {
    while ((await runtime.runs.list({ status: 'running' })).length === 0) await new Promise((r) => setTimeout(r, 5))
  }

  it('aborts a run’s code here once another worker holds its lease', async () => {
    const { store, sql } = await makeWithSql()
    const reasons: string[] = []
    const t = await testRuntime(store, untilAborted(reasons), { leaseMs: 3000 })
    rt = t.rt
    await rt.send($.Job.queued, {})
    await running(rt)
    await t.clock.advance('1s') // renewed
    expect(reasons).toEqual([])
    await sql(`update bac_runs set lease_owner = 'another-worker'`)
    await t.clock.advance('1s')
    expect(reasons).toEqual(['the lease was lost'])
  })

  it('aborts a run’s code before its lease runs out while the store cannot be reached to renew it', async () => {
    const { store } = await makeWithSql()
    const reasons: string[] = []
    const t = await testRuntime(store, untilAborted(reasons), { leaseMs: 3000 })
    rt = t.rt
    await rt.send($.Job.queued, {})
    await running(rt)
    await t.clock.advance('1s') // renewed until 4 s
    // Stands in for a network partition: a live connection to the store cannot be cut from a test.
    store.renewLeases = () => Promise.reject(new Error('connection lost'))
    await t.clock.advance('1s') // at 2 s: the lease holds until 4 s, past the next try at 3 s
    expect(reasons).toEqual([])
    await t.clock.advance('1s') // at 3 s: it would run out before the next try
    expect(reasons).toEqual(['the lease could not be renewed before it ran out (the store is unreachable)'])
    expect(t.logs.filter((l) => l.message === 'renewing leases failed').map((l) => l.aborted)).toEqual([undefined, 1])
  })
})

describe('a worker starting', () => {
  const self = { host: 'web-1', space: '4026531836-adc7c0553df4', pid: 100 }
  const dead = () => false

  it('takes back the leases of dead processes of its own machine and pid namespace', () => {
    expect(deadOwners(['web-1:4026531836-adc7c0553df4:42:ab'], self, dead)).toEqual([
      'web-1:4026531836-adc7c0553df4:42:ab',
    ])
  })

  it('leaves alone its own, live ones, and those of another boot, namespace or host', () => {
    const owners = [
      'web-1:4026531836-adc7c0553df4:100:cd', // its own pid
      'web-2:4026531836-adc7c0553df4:42:ab', // another host
      'web-1:4026531836-99f2e1aa0b3c:42:ab', // same hostname and root namespace, another machine
      'web-1:4026532001-adc7c0553df4:42:ab', // another container
    ]
    expect(deadOwners(owners, self, dead)).toEqual([])
    expect(deadOwners(['web-1:4026531836-adc7c0553df4:42:ab'], self, () => true)).toEqual([])
  })

  it('names itself by host, pid space and pid', () => {
    expect(newWorkerId()).toMatch(new RegExp(`^${hostname()}:${pidSpace()}:${process.pid}:[0-9a-f]{6}$`))
    if (process.platform === 'linux') expect(pidSpace()).toMatch(/^\d+-[0-9a-f]{12}$/) // namespace and boot id
  })
})
