/**
 * Two processes on one SQLite file (a script beside `bac dev`, two runtimes): an idle worker
 * hears another connection's commit through the file's data version, and runs what it wrote
 * within a fraction of a second — SQLite has no notifications, and there is no poll.
 */
import { $, business, on } from '@bac/sdk'
import { afterEach, expect, it } from 'vitest'
import { jsonLogger } from '../../json-logger.ts'
import { createRuntime, type Runtime } from '../../runtime.ts'
import { tempFile } from '../test-stores.fixture.ts'
import { sqlite } from './sqlite-store.ts'

const runtimes: Runtime[] = []
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.stop()
})

it('wakes an idle worker when another connection commits work to the file', async () => {
  const file = tempFile()
  const finished: number[] = []
  const open = async () => {
    const rt = await createRuntime({
      business: business('watch', () => {
        on($.Ping.sent, () => {
          finished.push(Date.now())
        })
      }),
      store: sqlite({ file, synchronous: 'normal' }),
      logger: jsonLogger({ level: 'silent' }),
    })
    runtimes.push(rt)
    return rt
  }
  const worker = await open()
  await worker.start()
  const sender = await open() // never started: it only writes, on a connection of its own
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300)) // the worker is idle again
    const sent = Date.now()
    await sender.send($.Ping.sent, { i })
    while (finished.length <= i && Date.now() - sent < 5000) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(finished[i], `ping ${i} was not run`).toBeDefined()
    expect((finished[i] ?? Number.POSITIVE_INFINITY) - sent).toBeLessThan(1000)
  }
})
