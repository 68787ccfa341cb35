import { $, business, on, send } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Runtime } from './runtime.ts'
import { announcePostgresSkip, testStores } from './store/test-stores.fixture.ts'
import { testRuntime } from './test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('services on $name', ({ make }) => {
  let rt: Runtime | undefined
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  it('are callable by send, by $.rpc and on the service object, with contracts checked', async () => {
    let Users: ReturnType<typeof users> | undefined
    const users = () =>
      $.service({
        name: 'UserService',
        operations: {
          getProfile: {
            input: z.object({ id: z.string() }),
            output: z.object({ id: z.string(), name: z.string() }),
            handler: async ({ id }) => ({ id, name: id === 'u1' ? 'Ann' : 'Bob' }),
          },
          rename: async (name: string) => send($.User.renamed, { name }),
        },
      })
    ;({ rt } = await testRuntime(await make(), () => {
      Users = users()
      on($.User.renamed, () => {})
    }))
    const runtime = rt
    expect(await runtime.send($.User.getProfile, { id: 'u1' })).toEqual({ id: 'u1', name: 'Ann' })
    expect(await runtime.run(() => $.rpc.UserService.getProfile({ id: 'u2' }))).toEqual({ id: 'u2', name: 'Bob' })
    expect(await runtime.run(() => Users?.getProfile({ id: 'u1' }))).toEqual({ id: 'u1', name: 'Ann' })
    expect(await runtime.run(() => $.rpc.UserService.rename('Cat'))).toEqual(expect.any(String))
    await expect(runtime.run(() => $.rpc.UserService.getProfile({ id: 7 }))).rejects.toThrow(
      'UserService.getProfile input: id must be a string, got 7',
    )
    await expect(runtime.run(() => $.rpc.UserService.delete({}))).rejects.toThrow(
      'service "UserService" has no operation "delete"; it has getProfile, rename',
    )
    await expect(runtime.run(() => $.rpc.Nobody.x({}))).rejects.toThrow(
      /no service "Nobody" in business "test"; services: UserService/,
    )
    await runtime.drain()
    expect((await runtime.runs.list({ kind: 'operation' })).map((r) => r.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ])
  })

  it('keep internal operations to their own service', async () => {
    ;({ rt } = await testRuntime(await make(), () => {
      $.service({
        name: 'Auth',
        operations: {
          _hash: (password: string) => `hashed:${password.length}`,
          register: (password: string) => send($.Auth._hash, password),
        },
      })
    }))
    expect(await rt.send($.Auth.register, 'secret')).toBe('hashed:6')
    await expect(rt.send($.Auth._hash, 'secret')).rejects.toThrow(
      'Auth._hash is internal to Auth; call one of its public operations instead',
    )
    await expect(rt.run(() => $.rpc.Auth._hash('x'))).rejects.toThrow('Auth._hash is internal to Auth')
  })

  it('route by version range, latest when none is asked, with a clear error for an unknown range', async () => {
    ;({ rt } = await testRuntime(await make(), () => {
      const v1 = $.service({ name: 'Email Service', version: '1.4.0', operations: { send: () => 'sent by v1' } })
      const v2 = $.service({ name: 'Email Service', version: '2.1.0', operations: { send: () => 'sent by v2' } })
      $.service({ versions: { '1.x': v1, '2.x': v2 } })
    }))
    expect(await rt.send($.Email.send, {})).toBe('sent by v2')
    expect(await rt.send($.Email.send, {}, { version: '^1' })).toBe('sent by v1')
    expect(await rt.run(() => $.rpc.EmailService.send({}, { version: '1.x' }))).toBe('sent by v1')
    await expect(rt.send($.Email.send, {}, { version: '^3' })).rejects.toThrow(
      'no version of Email.send matches "^3"; available: 1.4.0, 2.1.0',
    )
    await expect(rt.send($.Email.send, {}, { version: 'latest please' })).rejects.toThrow(
      `Email.send: "latest please" is not a semver range such as '^1' or '2.x'`,
    )
    const runs = await rt.runs.list({ kind: 'operation' })
    expect(runs.map((r) => r.name).sort()).toEqual([
      'EmailService.send@1.4.0',
      'EmailService.send@1.4.0',
      'EmailService.send@2.1.0',
    ])
  })

  it('report health: the store, and each service check on its interval', async () => {
    let stripeUp = true
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(await make(), () => {
      $.service({
        name: 'Payment Service',
        health: {
          check: async () => ({ status: stripeUp ? 'healthy' : 'unhealthy', checks: { stripe: stripeUp } }),
          interval: '30s',
        },
      })
      $.service({
        name: 'Search',
        health: () => {
          throw new Error('index missing')
        },
      })
    }))
    await t.clock.advance(1)
    let report = await rt.health()
    expect(report).toMatchObject({
      status: 'degraded',
      store: { reachable: true },
      services: {
        'Payment Service': { status: 'healthy', checks: { stripe: true } },
        Search: { status: 'unhealthy', error: 'index missing' },
      },
    })
    stripeUp = false
    await t.clock.advance('30s')
    report = await rt.health()
    expect(report.services['Payment Service']).toMatchObject({ status: 'unhealthy', checks: { stripe: false } })
    expect(report.worker).toBe(rt.workerId)
  })

  it('report the worker’s version, the leases it holds, and how long due work has waited', async () => {
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(await make(), () => on($.Job.queued, () => gate), {
      concurrency: 1,
      version: '1.4.0',
    }))
    const runtime = rt
    await runtime.send($.Job.queued, { n: 1 })
    await runtime.send($.Job.queued, { n: 2 })
    while ((await runtime.runs.list({ status: 'running' })).length === 0) await new Promise((r) => setTimeout(r, 5))
    await t.clock.advance('5s')
    expect(await runtime.health()).toMatchObject({ version: '1.4.0', leases: 1, lagMs: 5000 })
    open()
    await runtime.drain()
    expect(await runtime.health()).toMatchObject({ leases: 0, lagMs: 0 })
  })

  it('pin runs to their definition version: a saga in flight finishes on its own code', async () => {
    const journal: string[] = []
    const define = (label: string) => () => {
      $.service({ name: 'Warehouse', operations: { pick: (sku: string) => journal.push(`${label} pick ${sku}`) } })
      const fulfil = $.saga<{ sku: string }>({
        name: 'fulfil',
        steps: [
          { name: 'pick', action: (o) => send($.Warehouse.pick, o.sku) },
          {
            name: 'wait for the van',
            action: async (_o, ctx) => {
              await ctx.sleep('1h')
              journal.push(`${label} loaded`)
            },
          },
        ],
      })
      on($.Order.paid, (order: { sku: string }) => fulfil.execute(order))
    }
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(await make(), define('v1'), { version: '1' }))
    await rt.send($.Order.paid, { sku: 'lamp' })
    await rt.drain()
    expect(journal).toEqual(['v1 pick lamp'])

    await rt.activate(business('test', define('v2')), { version: '2' })
    expect(rt.versions).toEqual({ active: '2', loaded: ['1', '2'] })
    await rt.send($.Order.paid, { sku: 'desk' })
    await t.clock.advance('1h')
    await rt.drain()
    expect(journal.slice(0, 2)).toEqual(['v1 pick lamp', 'v2 pick desk'])
    expect(journal.slice(2).sort()).toEqual(['v1 loaded', 'v2 loaded'])
    const sagas = await rt.runs.list({ kind: 'saga' })
    expect(sagas.map((r) => [(r.input as { sku: string }).sku, r.version, r.status]).sort()).toEqual([
      ['desk', '2', 'completed'],
      ['lamp', '1', 'completed'],
    ])
  })

  it('leave a run waiting, visibly, when its version’s code is not loaded', async () => {
    const store = await make()
    ;({ rt } = await testRuntime(store, () => on($.Job.queued, () => 'v1 ran'), { version: '1' }))
    await rt.store.enqueue({
      id: 'pinned',
      kind: 'handler',
      name: 'Job.queued',
      input: {},
      version: '0.9',
      availableAt: rt.clock.now(),
    })
    await rt.send($.Job.queued, {})
    await rt.drain()
    const runs = await rt.runs.list()
    expect(runs.map((r) => [r.version, r.status]).sort()).toEqual([
      ['0.9', 'pending'],
      ['1', 'completed'],
    ])
  })
})
