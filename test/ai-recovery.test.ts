/**
 * `kill -9` a worker after its AI calls are answered and stored but before the work that uses
 * them is done; another worker finishes every run from the stored answers — the model server
 * is not asked (nor paid) again.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRuntime, jsonLogger } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type OpenAITestServer, startOpenAITestServer } from '../packages/runtime/src/ai/openai-test-server.fixture.ts'
import { tempFile } from '../packages/runtime/src/store/test-stores.fixture.ts'
import { startWorker, until } from './crash-worker.ts'
import { businessFor } from './fixtures/ai-recovery/business.ts'

// As many as the worker runs at once (8): each holds its slot in the hanging delivery.
const TICKETS = 8

let server: OpenAITestServer
beforeAll(async () => {
  server = await startOpenAITestServer()
  server.reply((body) => ({ content: `answer to "${body.messages.at(-1)?.content}"` }))
}, 60_000)
afterAll(() => server.close())

it('replays stored AI answers after kill -9 instead of calling the model again', async () => {
  const file = tempFile('ai.db')
  const log = tempFile('deliveries.log')
  writeFileSync(log, '')
  const ai = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test', BAC_AI_MODEL: 'test-model' }
  const observer = await createRuntime({
    business: businessFor(log),
    store: sqlite({ file, synchronous: 'normal' }),
    logger: jsonLogger({ level: 'silent' }),
  })
  const answered = async () => {
    let stored = 0
    for (const run of await observer.runs.list({ limit: TICKETS })) {
      if ((await observer.runs.get(run.id))?.steps.some((s) => s.key === '$ai#1')) stored++
    }
    return stored
  }

  const first = startWorker('ai-recovery', ['send', file, log, String(TICKETS)], { ...ai, HANG_DELIVERY: '1' })
  try {
    await until(async () => (await answered()) === TICKETS, `${TICKETS} answers to be stored`)
  } finally {
    first.child.kill('SIGKILL')
  }
  await first.exited
  expect(server.requests).toHaveLength(TICKETS)
  expect(readFileSync(log, 'utf8')).toBe('')
  await observer.stop()

  const second = startWorker('ai-recovery', ['drain', file, log], ai)
  expect(await second.exited, await second.output).toBe(0)
  expect(server.requests).toHaveLength(TICKETS)
  const deliveries = readFileSync(log, 'utf8').trim().split('\n')
  expect(deliveries).toHaveLength(TICKETS)
  for (const line of deliveries) {
    const [pid, n, ...reply] = line.split(' ')
    expect(pid).toBe(String(second.child.pid))
    expect(reply.join(' ')).toBe(`answer to "Reply to ticket ${n}"`)
  }
}, 60_000)
