/**
 * A run's settlement survives a dropped connection: tried again on passing errors, and a try
 * whose commit went through though its answer was lost counts as done.
 */
import { describe, expect, it } from 'vitest'
import { settleRun } from './settle-run.ts'
import { sqlite } from './store/sqlite/sqlite-store.ts'
import type { Store } from './store/store.ts'
import { tempFile } from './store/test-stores.fixture.ts'

const T0 = 1_800_000_000_000

/** A store with one run claimed by `w`. */
async function claimed(): Promise<Store> {
  const store = sqlite({ file: tempFile() })
  await store.open()
  await store.enqueue({ id: 'r1', kind: 'handler', name: 'h', input: {}, availableAt: T0 })
  await store.claim({ owner: 'w', now: T0, limit: 1, leaseMs: 30_000 })
  return store
}

// What a PostgreSQL server restart does to a query in flight (SQLSTATE 57P01); a real drop
// cannot be timed to land inside one settle, so the store's settle throws it, as pg would.
const terminated = () =>
  Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })

describe('settling a run', () => {
  it('tries again when the connection dropped before the settle committed', async () => {
    const store = await claimed()
    const settle = store.settle.bind(store)
    let tries = 0
    store.settle = (...args) => (++tries === 1 ? Promise.reject(terminated()) : settle(...args))
    const settled = await settleRun(store, 'r1', 'w', { status: 'completed', result: 7, now: T0 + 1 })
    expect(settled).toMatchObject({ id: 'r1', status: 'completed', result: 7 })
    expect(tries).toBe(2)
    await store.close()
  })

  it('counts a settle whose commit went through though its answer was lost', async () => {
    const store = await claimed()
    const settle = store.settle.bind(store)
    let tries = 0
    store.settle = async (...args) => {
      const result = await settle(...args)
      if (++tries === 1) throw Object.assign(new Error('Connection terminated unexpectedly'), {})
      return result
    }
    const settled = await settleRun(store, 'r1', 'w', { status: 'completed', result: 7, now: T0 + 1 })
    expect(settled).toMatchObject({ id: 'r1', status: 'completed', result: 7 })
    expect(tries).toBe(2)
    await store.close()
  })

  it('gives up at once on an error a retry cannot cure', async () => {
    const store = await claimed()
    let tries = 0
    store.settle = () => {
      tries++
      return Promise.reject(Object.assign(new Error('value too long'), { code: '22001' }))
    }
    await expect(settleRun(store, 'r1', 'w', { status: 'completed', now: T0 + 1 })).rejects.toThrow('value too long')
    expect(tries).toBe(1)
    await store.close()
  })
})
