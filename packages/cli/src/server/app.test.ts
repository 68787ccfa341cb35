/**
 * The HTTP app on a real server on loopback: events, operations (with version routing),
 * endpoints, the JSON APIs, errors as JSON with the right status, and API keys by role.
 */
import { createRuntime, jsonLogger, type Runtime, virtualClock } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { $, business, db, every, on } from '@bac/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { tempFile } from '../../../runtime/src/store/test-stores.fixture.ts'
import { createKey, revokeKey } from './api-keys.ts'
import { type RuntimeServer, serveRuntime } from './serve.ts'

const opened: { rt: Runtime; server: RuntimeServer }[] = []
afterEach(async () => {
  for (const { rt, server } of opened.splice(0)) {
    await server.close()
    await rt.stop()
  }
})

const shop = () => {
  const v1 = $.service({
    name: 'Prices',
    version: '1.2.0',
    operations: { quote: (sku: string) => ({ sku, price: 10, v: 1 }) },
  })
  const v2 = $.service({
    name: 'Prices',
    version: '2.0.0',
    operations: { quote: (sku: string) => ({ sku, price: 12, v: 2 }) },
  })
  $.service({ versions: { '1.x': v1, '2.x': v2 } })
  $.service({
    name: 'Stock',
    operations: {
      restock: {
        input: z.object({ sku: z.string(), available: z.number().int().min(0) }),
        handler: (input: { sku: string; available: number }) => db.upsert('Stock', { $id: input.sku, ...input }),
      },
      reserve: (sku: string) =>
        db.update('Stock', sku, { $inc: { available: -1 } }, { where: { 'available:gte': 1 }, orFail: true }),
    },
    endpoints: {
      'GET /stock/:sku': async (c) =>
        (await db.get('Stock', c.req.param('sku'))) ?? c.json({ error: 'no such sku' }, 404),
    },
  })
  on(
    $.Order.placed,
    (order: { id: string }) => {
      if (order.id === 'bad') throw new Error('cannot place bad orders')
    },
    { retry: false },
  )
  every('day at 6am', () => {})
}

async function open(auth: 'open' | 'keys' = 'open', options: { bodyLimit?: number } = {}) {
  const rt = await createRuntime({
    business: business('http', shop),
    store: sqlite({ file: tempFile() }),
    clock: virtualClock('2026-05-01T00:00:00Z'),
    logger: jsonLogger({ level: 'silent' }),
  })
  await rt.start()
  const server = await serveRuntime({ runtime: rt, auth, ...options }, { host: '127.0.0.1', port: 0 })
  opened.push({ rt, server })
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = text
    }
    return { status: response.status, body: json as Record<string, unknown>, headers: response.headers }
  }
  return { rt, server, call }
}

describe('the HTTP app', () => {
  it('publishes events, checks them, and shows what ran', async () => {
    const { rt, call } = await open()
    const sent = await call('POST', '/events/Order.placed', { id: 'o1' }, { 'idempotency-key': 'k1' })
    expect(sent).toMatchObject({ status: 202, body: { id: expect.any(String) } })
    expect((await call('POST', '/events/Order.placed', { id: 'o1' }, { 'idempotency-key': 'k1' })).body.id).toBe(
      sent.body.id,
    )
    await call('POST', '/events/Order.placed', { id: 'bad' })
    await rt.drain()
    const runs = await call('GET', '/api/runs?kind=handler')
    expect((runs.body as unknown as { status: string }[]).map((r) => r.status).sort()).toEqual(['completed', 'failed'])
    const run = (runs.body as unknown as { id: string; status: string }[])[0]
    expect((await call('GET', `/api/runs/${run?.id}`)).body).toMatchObject({ id: run?.id, steps: [] })
    expect(await call('GET', '/api/runs/nope')).toMatchObject({ status: 404, body: { error: 'no run nope' } })
    expect((await call('GET', '/api/events/latest')).body).toHaveLength(2)
    expect((await call('GET', '/api/schedules')).body).toEqual([
      expect.objectContaining({ name: expect.any(String), cron: '0 6 * * *' }),
    ])

    const [dead] = (await call('GET', '/api/dlq')).body as unknown as { id: string; error: { message: string } }[]
    expect(dead?.error.message).toBe('cannot place bad orders')
    expect((await call('POST', `/api/dlq/${dead?.id}/replay`)).status).toBe(200)
    await rt.drain()
    const [again] = (await call('GET', '/api/dlq')).body as unknown as { id: string }[]
    expect((await call('POST', `/api/dlq/${again?.id}/discard`)).body).toEqual({ discarded: again?.id })
    expect((await call('GET', '/api/dlq')).body).toEqual([])
  })

  it('calls operations by version range, and serves the business’s endpoints', async () => {
    const { call } = await open()
    expect((await call('POST', '/rpc/Prices/quote', '"lamp"')).body).toEqual({
      result: { sku: 'lamp', price: 12, v: 2 },
    })
    expect((await call('POST', '/rpc/Prices/quote', '"lamp"', { 'x-bac-version': '^1' })).body).toEqual({
      result: { sku: 'lamp', price: 10, v: 1 },
    })
    expect(await call('POST', '/rpc/Prices/quote', '"lamp"', { 'x-bac-version': '^3' })).toMatchObject({ status: 404 })
    expect(await call('POST', '/rpc/Nobody/quote', {})).toMatchObject({
      status: 404,
      body: { code: 'BAC_UNKNOWN_OPERATION' },
    })
    await call('POST', '/rpc/Stock/restock', { sku: 'lamp', available: 3 })
    expect((await call('GET', '/stock/lamp')).body).toMatchObject({ sku: 'lamp', available: 3 })
    expect(await call('GET', '/stock/desk')).toMatchObject({ status: 404, body: { error: 'no such sku' } })
  })

  it('answers bad requests as JSON: 400 naming the field, 404, 413', async () => {
    const { call } = await open('open', { bodyLimit: 1024 })
    const invalid = await call('POST', '/rpc/Stock/restock', { sku: 'lamp', available: -1 })
    expect(invalid).toMatchObject({
      status: 400,
      body: {
        error: 'Stock.restock input: available must be at least 0, got -1',
        code: 'BAC_VALIDATION',
        issues: [{ path: 'available', received: '-1' }],
      },
    })
    expect(await call('POST', '/events/Order.placed', '{"id":')).toMatchObject({
      status: 400,
      body: { error: 'the request body is not valid JSON' },
    })
    expect(await call('POST', '/events/Order..placed', {})).toMatchObject({
      status: 400,
      body: { code: 'BAC_DECLARATION' },
    })
    expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, body: { error: 'no route GET /nowhere' } })
    expect(await call('GET', '/api/runs?status=bogus')).toMatchObject({
      status: 400,
      body: {
        error: expect.stringMatching(/^query parameter status must be one of pending, running, .*, got "bogus"$/),
        issues: [{ path: 'status', received: 'bogus' }],
      },
    })
    for (const path of ['/api/runs?kind=job', '/api/runs?limit=-1', '/api/events?after=abc', '/api/dlq?limit=2.5'])
      expect((await call('GET', path)).status, path).toBe(400)
    expect((await call('GET', '/api/events?after=0&limit=5')).status).toBe(200)
    const tooBig = await call('POST', '/events/Order.placed', { note: 'x'.repeat(2000) })
    expect(tooBig).toMatchObject({ status: 413, body: { error: 'the request body is over the limit of 1024 bytes' } })
    // The unread rest of the body must not be taken for the next request on the connection.
    expect(tooBig.headers.get('connection')).toBe('close')
    expect((await call('GET', '/health')).status).toBe(200)
    expect(await call('POST', '/rpc/Stock/reserve', '"nothing"')).toMatchObject({
      status: 404,
      body: { error: 'update(Stock): no document "nothing"', code: 'BAC_NOT_FOUND' },
    })
    // A write whose condition does not hold is a conflict.
    await call('POST', '/rpc/Stock/restock', { sku: 'bulb', available: 0 })
    expect(await call('POST', '/rpc/Stock/reserve', '"bulb"')).toMatchObject({
      status: 409,
      body: {
        error: 'update(Stock): bulb does not match where {"available:gte":1}; nothing was written',
        code: 'BAC_CONFLICT',
      },
    })
  })

  it('serves health, Prometheus metrics and the dashboard page', async () => {
    const { call } = await open()
    expect(await call('GET', '/health')).toMatchObject({
      status: 200,
      body: { status: 'ok', store: { reachable: true } },
    })
    const metrics = await call('GET', '/metrics')
    expect(metrics.headers.get('content-type')).toContain('text/plain')
    expect(metrics.body as unknown as string).toContain('# TYPE bac_runs_started_total counter')
    const page = await call('GET', '/')
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.body as unknown as string).toContain('<script type="module" src="/dashboard/app.js">')
  })
})

describe('API keys', () => {
  it('are required on every route but /health, and allow what their role allows', async () => {
    const { rt, call } = await open('keys')
    const now = Date.now()
    const keyOf = async (role: 'reader' | 'sender' | 'deployer' | 'admin') => await createKey(rt.store, { role }, now)
    const readerKey = await keyOf('reader')
    const [reader, sender, deployer, admin] = [
      readerKey.token,
      (await keyOf('sender')).token,
      (await keyOf('deployer')).token,
      (await keyOf('admin')).token,
    ]
    const as = (key: string) => ({ authorization: `Bearer ${key}` })

    expect((await call('GET', '/health')).status).toBe(200)
    expect(await call('GET', '/api/runs')).toMatchObject({
      status: 401,
      body: { error: expect.stringContaining('API key is required') },
    })
    expect((await call('GET', '/api/runs', undefined, as('bac_admin_forged'))).status).toBe(401)
    expect((await call('GET', '/api/runs', undefined, as(reader))).status).toBe(200)
    expect((await call('GET', '/metrics', undefined, as(reader))).status).toBe(200)
    expect(await call('POST', '/events/Order.placed', { id: 'o1' }, as(reader))).toMatchObject({
      status: 403,
      body: { error: 'a reader key may not send; it needs a key whose role allows it' },
    })
    expect((await call('POST', '/events/Order.placed', { id: 'o1' }, as(sender))).status).toBe(202)
    expect((await call('POST', '/events/Order.placed', { id: 'o2' }, as(deployer))).status).toBe(403)
    expect((await call('POST', '/api/rollback', {}, as(sender))).status).toBe(403)
    expect((await call('POST', '/api/dlq/x/replay', undefined, as(sender))).status).toBe(403)
    expect(await call('POST', '/api/dlq/x/replay', undefined, as(admin))).toMatchObject({
      status: 404,
      body: { error: 'no dead letter x' },
    })
    // Readers may GET the business's endpoints (this one answers 404: no such stock).
    expect(await call('GET', '/stock/lamp', undefined, as(reader))).toMatchObject({
      status: 404,
      body: { error: 'no such sku' },
    })

    expect(await revokeKey(rt.store, readerKey.key.id, Date.now())).toBe(true)
    expect((await call('GET', '/api/runs', undefined, as(reader))).status).toBe(401)
  })
})
