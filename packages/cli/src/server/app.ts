/**
 * The HTTP app of a running business (hono, one port): the business's own service endpoints,
 * `POST /events/:name`, `POST /rpc/:service/:operation`, `GET /health`, `GET /metrics`, JSON
 * APIs for runs, events, dead letters, schedules and versions, and the dashboard at `/`.
 * Everything answers JSON; a bad input is a 400 naming the field, an unknown route a 404, a body
 * over the limit a 413. With `keys`, every route but `/health` and the dashboard's static files
 * (which hold no data: the page asks for a key and calls the APIs with it) needs
 * `Authorization: Bearer` with a key whose role allows it (401 without one, 403 with too weak a one).
 *
 * @example
 * const app = createApp({ runtime: rt, auth: 'open' })
 * const server = await serveApp(app, { port: 4400 })
 */
import { RUN_KINDS, RUN_STATUSES, type Runtime } from '@bac/runtime'
import { type BusinessDefinition, describe, ValidationError } from '@bac/sdk'
import { type Context, Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { allows, type Permission, verifyKey } from './api-keys.ts'
import { dashboard } from './dashboard.ts'
import type { Deployer } from './deployer.ts'

export interface AppOptions {
  readonly runtime: Runtime
  /** `open` (bac dev, on loopback) or `keys` (bac start: API keys required). */
  readonly auth: 'open' | 'keys'
  /** Deploys and rollbacks (bac start). */
  readonly deployer?: Deployer
  /** The business graph from static analysis, for the dashboard (bac dev). */
  readonly graph?: () => Promise<unknown>
  /** Largest request body, bytes (default 1 MiB; deployments may be larger). */
  readonly bodyLimit?: number
}

/** Status codes for errors, by their code. */
const STATUS: Readonly<Record<string, 400 | 404 | 409 | 429>> = {
  BAC_VALIDATION: 400,
  BAC_DECLARATION: 400,
  BAC_UNKNOWN_OPERATION: 404,
  BAC_NOT_FOUND: 404,
  BAC_UNIQUE: 409,
  BAC_CONFLICT: 409,
  BAC_VERSION_CONFLICT: 409,
  BAC_RATE_LIMITED: 429,
}

type Env = { Variables: { role?: string } }

/** Largest deployment bundle, bytes. */
const DEPLOYMENT_LIMIT = 64 * 1024 * 1024

export function createApp(options: AppOptions): Hono<Env> {
  const { runtime: rt } = options
  const app = new Hono<Env>()
  const limit = options.bodyLimit ?? 1024 * 1024

  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status)
    const code = (error as { code?: string }).code
    const status = (code ? STATUS[code] : undefined) ?? 500
    const body: Record<string, unknown> = { error: error.message, ...(code ? { code } : {}) }
    const issues = (error as { issues?: unknown }).issues
    if (issues) body.issues = issues
    const retryAfter = (error as { retryAfter?: number }).retryAfter
    if (status === 429 && retryAfter !== undefined) c.header('Retry-After', String(Math.ceil(retryAfter / 1000)))
    return c.json(body, status)
  })
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404))
  const sized = (maxSize: number) =>
    bodyLimit({
      maxSize,
      // The rest of the body is not read: close, or it would be taken for the next request.
      onError: (c) => {
        c.header('Connection', 'close')
        return c.json({ error: `the request body is over the limit of ${maxSize} bytes` }, 413)
      },
    })
  // Deployments carry a whole bundle; everything else is a payload.
  app.use('/api/deployments', sized(DEPLOYMENT_LIMIT))
  app.use('*', async (c, next) => (c.req.path === '/api/deployments' ? next() : sized(limit)(c, next)))

  const need =
    (permission: Permission): MiddlewareHandler<Env> =>
    async (c, next) => {
      if (options.auth === 'keys') {
        const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
        if (!token) return c.json({ error: 'an API key is required: Authorization: Bearer <key>' }, 401)
        const key = await verifyKey(rt.store, token)
        if (!key) return c.json({ error: 'the API key is unknown or revoked' }, 401)
        if (!allows(key.role, permission)) {
          return c.json({ error: `a ${key.role} key may not ${permission}; it needs a key whose role allows it` }, 403)
        }
        c.set('role', key.role)
      }
      await next()
    }

  app.get('/health', async (c) => {
    const report = await rt.health()
    return c.json(report, report.status === 'down' ? 503 : 200)
  })
  app.get('/metrics', need('read'), async (c) =>
    c.body(await rt.metrics.text(), 200, { 'content-type': rt.metrics.contentType }),
  )

  app.post('/events/:name', need('send'), async (c) => {
    const payload = await jsonBody(c)
    const idempotencyKey = c.req.header('idempotency-key')
    const id = await rt.publish(c.req.param('name'), payload, idempotencyKey ? { idempotencyKey } : {})
    return c.json({ id }, 202)
  })
  app.post('/rpc/:service/:operation', need('send'), async (c) => {
    const input = await jsonBody(c)
    const version = c.req.header('x-bac-version')
    const idempotencyKey = c.req.header('idempotency-key')
    const result = await rt.call(c.req.param('service'), c.req.param('operation'), input, {
      ...(version ? { version } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    })
    return c.json({ result: result ?? null })
  })

  const api = new Hono<Env>()
  api.get('/business', need('read'), (c) => c.json(describe(rt.business)))
  api.get('/graph', need('read'), async (c) => c.json(options.graph ? await options.graph() : null))
  api.get('/runs', need('read'), async (c) => {
    const { status, kind, name, limit: max } = c.req.query()
    const runs = await rt.runs.list({
      ...(status === undefined ? {} : { status: oneOf('status', status, RUN_STATUSES) }),
      ...(kind === undefined ? {} : { kind: oneOf('kind', kind, RUN_KINDS) }),
      ...(name ? { name } : {}),
      limit: count('limit', max, 100, 1000),
    })
    return c.json(runs)
  })
  api.get('/runs/:id', need('read'), async (c) => {
    const run = await rt.runs.get(c.req.param('id'))
    return run ? c.json(run) : c.json({ error: `no run ${c.req.param('id')}` }, 404)
  })
  api.get('/events', need('read'), async (c) => {
    const after = c.req.query('after') === undefined ? 0 : count('after', c.req.query('after'), 0, Infinity, 0)
    const events = await rt.store.eventsAfter(undefined, after, count('limit', c.req.query('limit'), 100, 1000))
    return c.json(events)
  })
  api.get('/events/latest', need('read'), async (c) => {
    const newest = await rt.store.lastEventSeq()
    const latest = count('limit', c.req.query('limit'), 50, 500)
    return c.json((await rt.store.eventsAfter(undefined, Math.max(0, newest - latest), latest)).reverse())
  })
  api.get('/dlq', need('read'), async (c) => c.json(await rt.dlq.list(count('limit', c.req.query('limit'), 100, 1000))))
  api.get('/dlq/:id', need('read'), async (c) => {
    const dead = await rt.dlq.get(c.req.param('id'))
    return dead ? c.json(dead) : c.json({ error: `no dead letter ${c.req.param('id')}` }, 404)
  })
  const letter: MiddlewareHandler<Env> = async (c, next) =>
    (await rt.dlq.get(c.req.param('id') ?? '')) ? next() : c.json({ error: `no dead letter ${c.req.param('id')}` }, 404)
  api.post('/dlq/:id/replay', need('operate'), letter, async (c) => c.json(await rt.dlq.replay(c.req.param('id'))))
  api.post('/dlq/:id/discard', need('operate'), letter, async (c) => {
    await rt.dlq.discard(c.req.param('id'))
    return c.json({ discarded: c.req.param('id') })
  })
  api.get('/schedules', need('read'), async (c) => c.json(await rt.store.listSchedules()))
  api.get('/metrics', need('read'), async (c) => c.json(await rt.metrics.snapshot()))
  api.get('/versions', need('read'), async (c) =>
    c.json(
      options.deployer ? await options.deployer.versions() : { active: rt.versions.active ?? null, deployments: [] },
    ),
  )
  api.post('/deployments', need('deploy'), async (c) => {
    if (!options.deployer)
      throw new HTTPException(404, { message: 'this server takes no deployments (bac dev reloads files instead)' })
    const body = (await jsonBody(c)) as { version?: unknown; bundle?: unknown; sha256?: unknown }
    return c.json(await options.deployer.deploy(body), 201)
  })
  api.post('/rollback', need('deploy'), async (c) => {
    if (!options.deployer) throw new HTTPException(404, { message: 'this server takes no deployments' })
    const body = (await jsonBody(c, {})) as { version?: unknown }
    return c.json(await options.deployer.rollback(body.version))
  })
  app.route('/api', api)

  mountEndpoints(app, rt, rt.business, need)
  dashboard(app)
  return app
}

/** The business's own HTTP endpoints (`'GET /products/:id'`), run with the runtime as context. */
function mountEndpoints(
  app: Hono<Env>,
  rt: Runtime,
  business: BusinessDefinition,
  need: (permission: Permission) => MiddlewareHandler<Env>,
): void {
  for (const service of business.services) {
    for (const endpoint of service.endpoints) {
      const method = endpoint.method === 'ALL' ? 'ALL' : endpoint.method
      const guard = need(method === 'GET' || method === 'HEAD' ? 'read' : 'send')
      app.on(
        method === 'ALL' ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : [method],
        [endpoint.path],
        guard,
        async (c) => {
          const value = await rt.run(() => endpoint.handler(c))
          return value instanceof Response ? value : c.json(value ?? null)
        },
      )
    }
  }
}

/** The request's JSON body (`fallback` when empty); not JSON is a 400. */
async function jsonBody(c: Context, fallback?: unknown): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') {
    if (fallback !== undefined) return fallback
    return undefined
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new HTTPException(400, { message: 'the request body is not valid JSON' })
  }
}

/** A query parameter that must be one of `allowed`; anything else is a 400 naming it. */
function oneOf<T extends string>(parameter: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw badParameter(parameter, `one of ${allowed.join(', ')}`, value)
}

/** A whole-number query parameter (`fallback` when absent, capped at `max`); anything else is a 400. */
function count(parameter: string, value: string | undefined, fallback: number, max: number, least = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < least)
    throw badParameter(parameter, `a whole number of at least ${least}`, value)
  return Math.min(n, max)
}

const badParameter = (parameter: string, expected: string, received: string) =>
  new ValidationError(`query parameter ${parameter} must be ${expected}, got ${JSON.stringify(received)}`, [
    { path: parameter, message: `must be ${expected}`, expected, received },
  ])
