/**
 * `kill -9` a worker while sagas run and compensate; start another on the same database and
 * drain. Every saga ends as its orders dictate (even orders completed, odd ones compensated),
 * and no action or compensation that finished runs again.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRuntime, jsonLogger, type Runtime } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import { sqlite } from '@bac/runtime/sqlite'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  announcePostgresSkip,
  freshPostgresUrl,
  POSTGRES_URL,
  tempFile,
} from '../packages/runtime/src/store/test-stores.fixture.ts'
import { startWorker, until } from './crash-worker.ts'
import { businessFor } from './fixtures/saga-recovery/business.ts'

const ORDERS = 120

beforeAll(announcePostgresSkip)

const stores = [
  { name: 'sqlite', where: async () => tempFile('sagas.db') },
  ...(POSTGRES_URL ? [{ name: 'postgres', where: () => freshPostgresUrl() }] : []),
]

describe.each(stores)('kill -9 in the middle of sagas on $name', ({ where }) => {
  it('finishes every saga and compensation once', async () => {
    const location = await where()
    const log = tempFile('operations.log')
    writeFileSync(log, '')
    const open = (): Promise<Runtime> =>
      createRuntime({
        business: businessFor(log),
        store: location.startsWith('postgres')
          ? postgres({ url: location })
          : sqlite({ file: location, synchronous: 'normal' }),
        logger: jsonLogger({ level: 'silent' }),
      })

    const first = startWorker('saga-recovery', ['send', location, log, String(ORDERS)])
    const observer = await open()
    const finished = async () =>
      (await observer.runs.list({ kind: 'saga', limit: ORDERS })).filter((r) =>
        ['completed', 'compensated'].includes(r.status),
      )
    await until(async () => (await finished()).length >= 20, '20 sagas to finish')
    first.child.kill('SIGKILL')
    await first.exited
    const killed = first.child.pid
    expect((await finished()).length).toBeLessThan(ORDERS)
    await observer.stop()

    const second = startWorker('saga-recovery', ['drain', location, log])
    expect(await second.exited, await second.output).toBe(0)
    const survivor = second.child.pid

    const rt = await open()
    try {
      const sagas = await rt.runs.list({ kind: 'saga', limit: ORDERS * 2 })
      const placed = await rt.runs.list({ name: 'Order.placed', limit: ORDERS * 2 })
      expect(sagas).toHaveLength(placed.length)
      for (const saga of sagas) {
        const { order } = saga.input as { order: number }
        expect(saga.status, `order ${order}`).toBe(order % 2 === 0 ? 'completed' : 'compensated')
      }
      expect(placed.every((r) => r.status === 'completed')).toBe(true)
      expect(await rt.dlq.list()).toEqual([])

      // Each operation run finished once; a body the survivor ran belonged to an operation the
      // killed worker had not finished (the stored result is the survivor's own).
      const operations = await rt.runs.list({ kind: 'operation', limit: ORDERS * 10 })
      const kept = new Map<string, unknown>()
      for (const op of operations) {
        const name = op.name.split('.')[1]
        const { order } = op.input as { order: number }
        expect(kept.has(`${name} ${order}`), `${name} ${order} ran as two runs`).toBe(false)
        kept.set(`${name} ${order}`, op.status === 'completed' ? (op.result as { pid: number }).pid : op.status)
      }
      const bodies = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
      const rerun = bodies.filter(
        ([pid, name, order]) => Number(pid) === survivor && name !== 'pay' && kept.get(`${name} ${order}`) !== survivor,
      )
      expect(rerun).toEqual([])
      const released = [...kept.keys()].filter((k) => k.startsWith('release')).map((k) => Number(k.split(' ')[1]))
      expect(released.every((order) => order % 2 === 1)).toBe(true)
      expect(released).toHaveLength(sagas.filter((s) => s.status === 'compensated').length)
      expect(bodies.some(([pid]) => Number(pid) === killed)).toBe(true)
    } finally {
      await rt.stop()
    }
  }, 180_000)
})
