import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { business } from './collector.ts'
import { bindContext } from './context.ts'
import type { ServiceDefinition } from './definition.ts'
import { isDeclarationError, isValidationError } from './errors.ts'
import { $, send } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'
import { validate } from './schema.ts'

const declarationError = (fn: () => void): string => {
  try {
    business('bad', fn)
  } catch (error) {
    expect(isDeclarationError(error)).toBe(true)
    return (error as Error).message
  }
  throw new Error('expected a DeclarationError')
}

describe('$.service', () => {
  it('turns every operation shape of the seeds into a contract', () => {
    let service: ServiceDefinition | undefined
    business('email', () => {
      service = $.service({
        name: 'Email Delivery Service',
        version: '1.0.0',
        type: 'api',
        operations: {
          send: {
            input: {
              to: { type: 'string', format: 'email', required: true },
              from: { type: 'string', format: 'email', required: true },
              subject: { type: 'string', required: true },
              body: { type: 'string', required: true },
              template: { type: 'string', required: false },
            },
            output: {
              messageId: { type: 'string' },
              status: { type: 'enum', values: ['sent', 'queued', 'failed'] },
              timestamp: { type: 'datetime' },
            },
            handler: async () => ({ messageId: 'm1', status: 'sent', timestamp: new Date() }),
          },
          track: { input: z.object({ messageId: z.string() }), handler: (input) => input.messageId.length },
          schedule: async (when: string) => ({ when }),
          _render: (template: string) => template.toUpperCase(),
        },
      }).definition
    })
    expect(service?.key).toBe('EmailDeliveryService')
    expect(service?.subject).toBe('EmailDelivery')
    expect(service?.operations.map((o) => [o.name, o.verb, o.internal])).toEqual([
      ['send', 'EmailDelivery.send', false],
      ['track', 'EmailDelivery.track', false],
      ['schedule', 'EmailDelivery.schedule', false],
      ['_render', 'EmailDelivery._render', true],
    ])
    const send = service?.operations[0]
    const input = send?.input
    if (!input || !send.output) throw new Error('send has a contract')
    expect(validate(input, { to: 'a@b.co', from: 'c@d.co', subject: 'Hi', body: 'x' }, 'in')).toEqual({
      to: 'a@b.co',
      from: 'c@d.co',
      subject: 'Hi',
      body: 'x',
    })
    let failure: unknown
    try {
      validate(input, { to: 'not-an-email', subject: 3, body: 'x' }, 'EmailDeliveryService.send input')
    } catch (error) {
      failure = error
    }
    expect(isValidationError(failure)).toBe(true)
    expect((failure as Error).message).toBe(
      'EmailDeliveryService.send input: to must be a valid email, got "not-an-email"; from must be a string, got nothing; subject must be a string, got 3',
    )
    expect(() => validate(send.output as never, { messageId: 'm', status: 'lost' }, 'out')).toThrow(
      /out: status must be one of "sent", "queued", "failed", got "lost"/,
    )
    expect(
      validate(send.output, { messageId: 'm', status: 'sent', timestamp: '2026-11-21T10:00:00Z' }, 'out'),
    ).toBeTruthy()
  })

  it('collects handlers, jobs, endpoints, data, health, metrics and policies', () => {
    const orderHandler = async (order: { id: string }) => {
      await send($.Order.confirmed, { id: order.id })
    }
    const definition = business('shop', () => {
      $.service({
        name: 'OrderService',
        handlers: { [$.Order.created]: orderHandler, 'Payment.*': () => {} },
        jobs: {
          dailyReport: { schedule: '0 0 * * *', handler: () => {} },
          weeklyDigest: { schedule: 'Monday at 9am', handler: () => {}, retry: 2 },
        },
        endpoints: {
          'GET /orders/:id': (c) => c.json({ id: c.req.param('id') }),
          'post /orders': (c) => c.json({}, 201),
        },
        data: { orders: $.db.collection('orders'), audit: $.db.collection('order_audit') },
        health: { check: async () => ({ status: 'healthy' }), interval: '10s' },
        metrics: {
          requests: $.metric.counter('order_requests_total'),
          latency: $.metric.histogram('order_latency_ms'),
        },
        retry: 5,
        timeout: '10s',
        cache: { l1: { enabled: true, ttl: 60_000 } },
        rateLimit: { global: { max: 1000, window: 60_000 } },
        deployment: { target: 'edge' },
        operations: { get: (id: string) => ({ id }) },
      })
    })
    const [service] = definition.services
    expect(definition.handlers.map((h) => [h.name, h.patterns, h.service, h.sends])).toEqual([
      ['OrderService.Order.created', ['Order.created'], 'OrderService', ['Order.confirmed']],
      ['OrderService.Payment.*', ['Payment.*'], 'OrderService', []],
    ])
    expect(definition.schedules.map((s) => [s.name, s.cron, s.service, s.options])).toEqual([
      ['OrderService.dailyReport', '0 0 * * *', 'OrderService', {}],
      ['OrderService.weeklyDigest', '0 9 * * 1', 'OrderService', { retry: { attempts: 2 } }],
    ])
    expect(service?.handlers).toEqual(['OrderService.Order.created', 'OrderService.Payment.*'])
    expect(service?.jobs).toEqual(['OrderService.dailyReport', 'OrderService.weeklyDigest'])
    expect(service?.endpoints.map((e) => `${e.method} ${e.path}`)).toEqual(['GET /orders/:id', 'POST /orders'])
    expect(service?.collections).toEqual(['orders', 'order_audit'])
    expect(definition.collections).toEqual([
      { kind: 'collection', name: 'orders', owner: 'OrderService' },
      { kind: 'collection', name: 'order_audit', owner: 'OrderService' },
    ])
    expect(service?.health?.interval).toBe(10_000)
    expect(service?.metrics.map((m) => `${m.kind} ${m.name}`)).toEqual([
      'counter order_requests_total',
      'histogram order_latency_ms',
    ])
    expect(definition.metrics.map((m) => m.name)).toEqual(['order_requests_total', 'order_latency_ms'])
    expect(service?.policies).toEqual({
      retry: { attempts: 5 },
      timeout: 10_000,
      cache: { ttl: 60_000, localTtl: 60_000, maxSize: 1000 },
      rateLimit: { limit: 1000, window: 60_000, algorithm: 'token-bucket', onLimit: 'wait' },
    })
    expect(service?.meta).toEqual({ deployment: { target: 'edge' } })
  })

  it('groups capabilities, commands and queries as operations, and names verbs by subject', () => {
    const definition = business('cqrs', () => {
      $.service({ name: 'Order Commands', subject: $.Order, commands: { create: (d: object) => d } })
      $.service({ name: 'OrderQueries', subject: 'OrderView', queries: { getOrder: (id: string) => id } })
      $.service({
        name: 'Billing',
        operations: { charge: { verb: $.Payment.process, handler: (x: number) => x } },
      })
    })
    expect(definition.services.flatMap((s) => s.operations.map((o) => o.verb))).toEqual([
      'Order.create',
      'OrderView.getOrder',
      'Payment.process',
    ])
  })

  it('routes versions and lets versions of one service coexist', () => {
    const definition = business('versions', () => {
      const v1 = $.service({ name: 'Email Service', version: '1.0.0', operations: { send: () => 'v1' } })
      const v2 = $.service({
        name: 'Email Service',
        version: '2.1.0',
        operations: { send: () => 'v2', schedule: () => 'later' },
      })
      $.service({ versions: { '1.x': v1, '2.x': v2 } })
    })
    expect(definition.services.map((s) => [s.name, s.version ?? 'router'])).toEqual([
      ['Email Service', '1.0.0'],
      ['Email Service', '2.1.0'],
      ['Email Service', 'router'],
    ])
    expect(Object.keys(definition.services[2]?.versions ?? {})).toEqual(['1.x', '2.x'])
  })

  it('calls operations through the bound context, pinned to its version', async () => {
    const { context, calls } = recordingContext()
    const Users = $.service({
      name: 'UserService',
      version: '1.2.0',
      data: { users: $.db.collection('users') },
      operations: { getProfile: async (id: string) => ({ id }) },
    })
    await bindContext(context, async () => {
      await Users.getProfile('u1')
      await Users.getProfile('u1', { version: '^1', cache: 'skip' })
      await Users.data.users.findOne({ id: 'u1' })
      await Users.cache.invalidate('u1')
    })
    expect(calls).toEqual([
      { method: 'call', args: ['UserService', 'getProfile', 'u1', { version: '1.2.0' }] },
      { method: 'call', args: ['UserService', 'getProfile', 'u1', { version: '^1', cache: 'skip' }] },
      { method: 'db.collection', args: ['users', { owner: 'UserService' }] },
      { method: 'db.collection(users).findOne', args: [{ id: 'u1' }] },
      { method: 'cache.invalidate', args: ['u1'] },
    ])
  })

  it('rejects misdeclarations, naming the service and the place', () => {
    expect(
      declarationError(() => {
        $.service({ name: 'Billing', operations: { a: () => 1 } })
        $.service({ name: 'Billing', operations: { b: () => 1 } })
      }),
    ).toMatch(/duplicate service "Billing" in business "bad": declared at .*service\.test\.ts.* and again/)
    expect(declarationError(() => $.service({ name: 'Billing', operations: { charge: { input: {} } as never } }))).toBe(
      "$.service('Billing') operations.charge: an operation needs a handler: { input, output, handler: async (input) => ... }",
    )
    expect(
      declarationError(() => $.service({ name: 'EmailService', operations: { send: $.Email.send as never } })),
    ).toBe(
      "$.service('EmailService') operations.send: an operation needs a handler; got only the reference Email.send. Write send: { verb: $.Email.send, handler: async (input) => ... }",
    )
    expect(declarationError(() => $.service({ operations: { a: () => 1 } }))).toMatch(/a service needs a name/)
    expect(declarationError(() => $.service({ name: 'X', opertions: {} }))).toMatch(
      /\$\.service\('X'\): unknown key "opertions" \(did you mean "operations"\?\)/,
    )
    expect(declarationError(() => $.service({ name: 'X', version: 'one' }))).toMatch(
      /version must be semver such as '1.2.0', got "one"/,
    )
    expect(declarationError(() => $.service({ name: 'X', endpoints: { '/products': () => {} } }))).toMatch(
      /endpoints\['\/products'\]: expected 'METHOD \/path' such as 'GET \/products\/:id'/,
    )
    expect(
      declarationError(() => $.service({ name: 'X', jobs: { nightly: { schedule: 'sometimes', handler: () => {} } } })),
    ).toMatch(/\$\.service\('X'\) jobs\.nightly: not a schedule/)
    expect(
      declarationError(() =>
        $.service({
          name: 'X',
          operations: { send: { input: { to: { type: 'strng' } }, handler: () => {} } },
        } as never),
      ),
    ).toMatch(/operations\.send input\.to: unknown field type "strng"/)
    expect(declarationError(() => $.service({ name: 'X', operations: { name: () => 1 } }))).toMatch(
      /"name" is a member of every service object/,
    )
    expect(
      declarationError(() => {
        const v1 = $.service({ name: 'Mail', version: '1.0.0', operations: { send: () => 1 } })
        $.service({ versions: { '2.x': v1 } })
      }),
    ).toMatch(/versions\['2\.x'\]: service version 1\.0\.0 does not satisfy "2\.x"/)
    expect(
      declarationError(() => {
        $.service({ name: 'A', subject: 'Payment', operations: { process: () => 1 } })
        $.service({ name: 'B', subject: 'Payment', operations: { process: () => 2 } })
      }),
    ).toMatch(/verb "Payment\.process" is already implemented by service "A"/)
    expect(declarationError(() => $.service({ name: 'X', data: { users: 'users' as never } }))).toMatch(
      /data\.users: expected \$\.db\.collection\('users'\)/,
    )
  })
})
