/**
 * The `bac` binary as people use it, against real servers on loopback: `init` → `dev` →
 * `send` → `runs`; a reload; `start` with API keys, two deploys, a saga in flight finishing on
 * the version it started on, a rollback; workers on one PostgreSQL (`--workers N`, and separate
 * processes a deploy through either reaches); `inspect` on the shop and on a flawed fixture.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freshPostgresUrl, POSTGRES_URL } from '../packages/runtime/src/store/test-stores.fixture.ts'
import { bac, startBac } from './bac.ts'

const scratch = () => mkdtempSync(join(tmpdir(), 'bac-cli-'))

async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** `GET /health` on a connection of its own (fetch would reuse one, and reach one worker only). */
function freshConnectionHealth(url: string): Promise<{ worker: string; version?: string; leases: number }> {
  return new Promise((resolve, reject) => {
    get(`${url}/health`, { agent: false }, (response) => {
      let body = ''
      response.on('data', (chunk) => {
        body += chunk
      })
      response.on('end', () => resolve(JSON.parse(body)))
    }).on('error', reject)
  })
}

// Each `bac` is a fresh Node process that compiles TypeScript on start: these take a while.
const SLOW = 120_000

describe('bac init, dev, send and runs', () => {
  it(
    'creates a business that runs: an event sent from the CLI completes, and an edit reloads it',
    async () => {
      const dir = join(scratch(), 'greeter')
      const init = await bac(['init', dir])
      expect(init.code, init.stderr).toBe(0)
      expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({
        name: 'greeter',
        type: 'module',
      })
      expect(await bac(['init', dir])).toMatchObject({ code: 1, stderr: expect.stringContaining('is not empty') })

      const dev = startBac(['dev', '--port', '0'], { cwd: dir })
      try {
        await dev.waitFor('is running')
        // `bac send` in the same directory finds the dev server by itself (.bac/dev.json).
        const sent = await bac(['send', 'Customer.signedUp', '{"id":"c1","name":"Ann"}'], { cwd: dir })
        expect(sent.code, sent.stderr).toBe(0)
        const runs = await eventually(
          async () => (await bac(['runs', '--json'], { cwd: dir })).stdout,
          (out) => out.includes('"welcome"') && !out.includes('"pending"') && !out.includes('"running"'),
          'the welcome run',
        )
        const list = JSON.parse(runs) as { name: string; status: string }[]
        expect(list.map((r) => [r.name, r.status]).sort()).toEqual([
          ['Greetings.compose', 'completed'],
          ['welcome', 'completed'],
        ])
        const table = await bac(['runs'], { cwd: dir })
        expect(table.stdout).toMatch(/completed\s+handler\s+welcome/)

        const source = join(dir, 'src', 'index.ts')
        writeFileSync(source, readFileSync(source, 'utf8').replace('Hello, ', 'Welcome, '))
        await dev.waitFor('bac dev: reloaded greeter')
        await bac(['send', 'Customer.signedUp', '{"id":"c2","name":"Bo"}'], { cwd: dir })
        await eventually(
          async () => (await bac(['call', 'Greetings.compose', '{"name":"Cy"}'], { cwd: dir })).stdout,
          (out) => out.includes('Welcome, Cy!'),
          'the reloaded greeting',
        )
        writeFileSync(source, 'export const broken = (')
        await dev.waitFor('did not load — the previous version keeps running')
        expect((await bac(['call', 'Greetings.compose', '{"name":"Di"}'], { cwd: dir })).stdout).toContain(
          'Welcome, Di!',
        )
      } finally {
        const stopped = await dev.stop()
        expect(stopped.code).toBe(0)
      }
    },
    SLOW,
  )
})

describe('bac start, keys, deploy and rollback', () => {
  it(
    'needs keys by role, deploys twice, finishes a saga in flight on its version, and rolls back',
    async () => {
      const dir = scratch()
      const store = join(dir, 'server.db')
      const key = async (role: string) => {
        const created = await bac(['keys', 'create', '--role', role, '--store', store])
        expect(created.code, created.stderr).toBe(0)
        return created.stdout.trim()
      }
      const admin = await key('admin')
      const reader = await key('reader')
      const start = startBac(['start', '--store', store, '--port', '0', '--host', '127.0.0.1', '--data', dir])
      try {
        await start.waitFor('bac start: serving')
        const url = await start.url()
        const as = (token?: string) => ({ env: { BAC_URL: url, ...(token ? { BAC_API_KEY: token } : {}) } })

        expect((await fetch(`${url}/api/runs`)).status).toBe(401)
        expect((await fetch(`${url}/health`)).status).toBe(200)
        const forbidden = await bac(['deploy', 'test/fixtures/deploy/v1', '--to', url, '--key', reader])
        expect(forbidden.code).toBe(1)
        expect(forbidden.stderr).toContain('403 a reader key may not deploy')

        const first = await bac(['deploy', 'test/fixtures/deploy/v1', '--to', url, '--key', admin])
        expect(first.code, first.stderr).toBe(0)
        expect(first.stdout).toContain('deployed 1.0.0')
        expect(first.stderr).toMatch(/bundled \d+ KB/)
        await bac(['send', 'Order.created', '{"id":"o1"}'], as(admin))
        // The saga waits for the gate, on 1.0.0...
        await eventually(
          async () =>
            JSON.parse((await bac(['runs', '--kind', 'saga', '--json'], as(reader))).stdout) as { status: string }[],
          (runs) => runs[0]?.status === 'waiting',
          'the saga to wait',
        )
        // ...while 2.0.0 is deployed; then the gate opens.
        const second = await bac(['deploy', 'test/fixtures/deploy/v2', '--to', url, '--key', admin])
        expect(second.stdout).toContain('deployed 2.0.0')
        await bac(['send', 'Gate.opened', '{}'], as(admin))
        const [saga] = await eventually(
          async () =>
            JSON.parse((await bac(['runs', '--kind', 'saga', '--json'], as(reader))).stdout) as {
              status: string
              version: string
              result: unknown
            }[],
          (runs) => runs[0]?.status === 'completed',
          'the saga to finish',
        )
        expect(saga).toMatchObject({ version: '1.0.0', result: { finish: 'v1' } })
        // A new order runs on 2.0.0.
        await bac(['send', 'Order.created', '{"id":"o2"}'], as(admin))
        await bac(['send', 'Gate.opened', '{}'], as(admin))
        await eventually(
          async () =>
            JSON.parse((await bac(['runs', '--kind', 'saga', '--json'], as(reader))).stdout) as {
              version: string
              result: unknown
            }[],
          (runs) =>
            runs.some((r) => r.version === '2.0.0' && (r.result as { finish?: string } | undefined)?.finish === 'v2'),
          'a saga on 2.0.0',
        )

        const versions = await bac(['versions'], as(reader))
        expect(versions.stdout).toMatch(/^\* 2\.0\.0 .*\n {2}1\.0\.0 /)
        const rollback = await bac(['rollback'], as(reader))
        expect(rollback.stderr).toContain('403')
        expect((await bac(['rollback'], as(admin))).stdout).toContain('active: 1.0.0 (was 2.0.0)')
        expect((await bac(['versions', '--json'], as(admin))).stdout).toContain('"active": "1.0.0"')
      } finally {
        await start.stop()
      }
    },
    SLOW,
  )
})

describe.skipIf(!POSTGRES_URL)('bac start --workers on PostgreSQL', () => {
  it(
    'serves one port from several worker processes, each running what is deployed, and replaces one killed',
    async () => {
      const store = await freshPostgresUrl()
      const admin = (await bac(['keys', 'create', '--role', 'admin', '--store', store])).stdout.trim()
      const start = startBac([
        'start',
        '--store',
        store,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--workers',
        '2',
        '--data',
        scratch(),
      ])
      try {
        await start.waitFor('worker 1 serving')
        await start.waitFor('worker 2 serving')
        const url = await start.url()
        const as = { env: { BAC_URL: url, BAC_API_KEY: admin } }
        expect((await bac(['deploy', 'test/fixtures/deploy/v1', '--to', url, '--key', admin])).code).toBe(0)
        // Both workers run it: the one the deploy reached, and the other, which heard of it.
        const running = new Map<string, string | undefined>()
        await eventually(
          async () => {
            const health = await freshConnectionHealth(url) // a new connection: either worker may take it
            running.set(health.worker, health.version)
            return [...running.values()]
          },
          (versions) => versions.length === 2 && versions.every((v) => v === '1.0.0'),
          'both workers to run 1.0.0',
          5_000,
        )
        for (let i = 0; i < 6; i++) await bac(['send', 'Order.created', `{"id":"o${i}"}`], as)
        const sagas = await eventually(
          async () =>
            JSON.parse((await bac(['runs', '--kind', 'saga', '--json'], as)).stdout) as {
              status: string
              version: string
            }[],
          (runs) => runs.length === 6 && runs.every((r) => r.status === 'waiting'),
          'six sagas waiting at the gate',
        )
        expect(sagas.every((r) => r.version === '1.0.0')).toBe(true)

        // kill -9 a worker (its id carries its pid): the supervisor starts another in its place,
        // which loads what is deployed, and the sagas finish.
        const [victim = ''] = running.keys()
        process.kill(Number(victim.split(':')[2]), 'SIGKILL')
        await start.waitFor('exited (SIGKILL); starting another')
        await start.waitFor('worker 3 serving')
        await bac(['send', 'Gate.opened', '{}'], as)
        await eventually(
          async () =>
            JSON.parse((await bac(['runs', '--kind', 'saga', '--json'], as)).stdout) as {
              status: string
              version: string
            }[],
          (runs) => runs.length === 6 && runs.every((r) => r.status === 'completed' && r.version === '1.0.0'),
          'the six sagas to finish on 1.0.0',
        )
        expect(await freshConnectionHealth(url)).toMatchObject({ version: '1.0.0', leases: 0, lagMs: 0 })
      } finally {
        const stopped = await start.stop()
        expect(stopped.stdout.match(/worker \d stopping/g)).toHaveLength(2)
      }
    },
    SLOW,
  )
})

describe.skipIf(!POSTGRES_URL)('separate bac start processes on one PostgreSQL', () => {
  it(
    'each run what was deployed through either, new runs on the new version and runs in flight on theirs',
    async () => {
      const store = await freshPostgresUrl()
      const admin = (await bac(['keys', 'create', '--role', 'admin', '--store', store])).stdout.trim()
      const start = () =>
        startBac(['start', '--store', store, '--port', '0', '--host', '127.0.0.1', '--data', scratch()])
      const workers = [start(), start()]
      try {
        const [a = '', b = ''] = await Promise.all(workers.map((w) => w.url()))
        const health = async (url: string) =>
          (await (await fetch(`${url}/health`)).json()) as { worker: string; version?: string; leases: number }
        const version = (url: string, wanted: string) =>
          // Within 3 s: heard through LISTEN/NOTIFY (the poll, a fallback, comes every 5 s).
          eventually(
            () => health(url),
            (h) => h.version === wanted,
            `${url} to run ${wanted}`,
            3_000,
          )
        const on = (url: string) => ({ env: { BAC_URL: url, BAC_API_KEY: admin } })
        const sagas = (url: string) => async () =>
          JSON.parse((await bac(['runs', '--kind', 'saga', '--json'], on(url))).stdout) as {
            status: string
            version: string
            result?: { finish?: string }
          }[]

        expect((await bac(['deploy', 'test/fixtures/deploy/v1', '--to', a, '--key', admin])).code).toBe(0)
        await version(b, '1.0.0') // not deployed to: it heard
        await bac(['send', 'Order.created', '{"id":"o1"}'], on(b))
        await eventually(sagas(a), (runs) => runs[0]?.status === 'waiting', 'the saga to wait at the gate')

        expect((await bac(['deploy', 'test/fixtures/deploy/v2', '--to', b, '--key', admin])).code).toBe(0)
        await version(a, '2.0.0')
        await bac(['send', 'Gate.opened', '{}'], on(a))
        const [first] = await eventually(sagas(b), (runs) => runs[0]?.status === 'completed', 'the first saga')
        expect(first).toMatchObject({ version: '1.0.0', result: { finish: 'v1' } })

        await bac(['send', 'Order.created', '{"id":"o2"}'], on(a))
        await eventually(sagas(b), (runs) => runs.length === 2 && runs.some((r) => r.status === 'waiting'), 'o2 waits')
        await bac(['send', 'Gate.opened', '{}'], on(b))
        const runs = await eventually(sagas(a), (all) => all.every((r) => r.status === 'completed'), 'both sagas')
        expect(runs.map((r) => [r.version, r.result?.finish]).sort()).toEqual([
          ['1.0.0', 'v1'],
          ['2.0.0', 'v2'],
        ])
        const [ha, hb] = await Promise.all([health(a), health(b)])
        expect(ha.worker).not.toBe(hb.worker)
      } finally {
        for (const worker of workers) expect((await worker.stop()).code).toBe(0)
      }
    },
    SLOW,
  )
})

describe('bac inspect', () => {
  it('lists the shop’s graph from its sources', async () => {
    const result = await bac(['inspect', 'examples/shop'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/placeOrder {2}on Order\.created → sends .*Payment\.process.*Shipment\.create/)
    expect(result.stdout).toMatch(/process {2}as Payment\.process/)
    const mermaid = await bac(['inspect', 'examples/shop', '--format', 'mermaid'])
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/)
    expect(mermaid.stdout).toMatch(/\(\["Order\.created"\]\) --> n\d+\["placeOrder"\]/)
    expect(result.stdout).not.toContain('unhandled:')
  })

  it('flags an event nothing handles and a cycle, and fails --strict', async () => {
    const result = await bac(['inspect', 'test/fixtures/inspect', '--format', 'json'])
    const graph = JSON.parse(result.stdout) as { warnings: { kind: string; message: string }[] }
    expect(graph.warnings.map((w) => [w.kind, w.message])).toEqual(
      expect.arrayContaining([
        ['unhandled', 'handler bill sends Invoice.archived, which nothing handles'],
        ['cycle', expect.stringMatching(/cycle: (bill → remind → bill|remind → bill → remind)/)],
      ]),
    )
    expect((await bac(['inspect', 'test/fixtures/inspect', '--strict'])).code).toBe(1)
  })
})
