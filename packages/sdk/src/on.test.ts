import { describe, expect, it } from 'vitest'
import { business } from './collector.ts'
import { isDeclarationError } from './errors.ts'
import { $, on, send } from './index.ts'
import { matches } from './pattern.ts'

const noop = () => {}

describe('on', () => {
  it('accepts a reference, a string, wildcards and a list', () => {
    const definition = business('patterns', () => {
      on($.Order.created, noop)
      on('Order.paid', noop)
      on('$.Order.shipped', noop)
      on('Order.*', noop)
      on('*.created', noop)
      on([$.Payment.failed, 'Payment.refunded'], noop)
      on('*', noop)
    })
    expect(definition.handlers.map((h) => h.patterns)).toEqual([
      ['Order.created'],
      ['Order.paid'],
      ['Order.shipped'],
      ['Order.*'],
      ['*.created'],
      ['Payment.failed', 'Payment.refunded'],
      ['*'],
    ])
  })

  it('normalises options: durations to ms, retry counts to policies, named priorities', () => {
    const key = (order: { id: string }) => order.id
    const definition = business('options', () => {
      on($.Order.created, noop, {
        retry: { attempts: 5, initialDelay: '1s', maxDelay: '1m', backoff: 'exponential', jitter: true },
        timeout: '30s',
        concurrency: 2,
        idempotencyKey: key,
        priority: 'high',
        name: 'charge-order',
      })
      on($.Order.paid, noop, { retry: 3, concurrency: { limit: 1, key } })
      on($.Order.failed, noop, { retry: false, priority: -5 })
    })
    const [first, second, third] = definition.handlers
    expect(first?.name).toBe('charge-order')
    expect(first?.options).toEqual({
      retry: { attempts: 5, initialDelay: 1000, maxDelay: 60_000, backoff: 'exponential', jitter: true },
      timeout: 30_000,
      concurrency: { limit: 2 },
      idempotencyKey: key,
      priority: 10,
      name: 'charge-order',
    })
    expect(second?.options).toEqual({ retry: { attempts: 3 }, concurrency: { limit: 1, key } })
    expect(third?.options).toEqual({ retry: false, priority: -5 })
  })

  it('names handlers after the function, else the pattern, without collisions', () => {
    async function sendReceipt() {}
    const definition = business('names', () => {
      on($.Order.created, sendReceipt)
      on($.Order.created, noop)
      on($.Order.created, () => {})
      on($.Order.created, () => {})
    })
    expect(definition.handlers.map((h) => h.name)).toEqual(['sendReceipt', 'noop', 'Order.created', 'Order.created#2'])
  })

  it('records where it was declared and which events the handler visibly sends', () => {
    const definition = business('sends', () => {
      on($.Order.created, async (order: { id: string }) => {
        await send($.Payment.process, { orderId: order.id })
        await send('Email.send', { to: 'x' })
      })
    })
    expect(definition.handlers[0]?.sends).toEqual(['Payment.process', 'Email.send'])
    expect(definition.handlers[0]?.source).toMatch(/packages\/sdk\/src\/on\.test\.ts:\d+:\d+$/)
  })

  it('fails at declaration time, naming the place and the problem', () => {
    const failure = (fn: () => void) => {
      try {
        business('bad', fn)
      } catch (error) {
        expect(isDeclarationError(error)).toBe(true)
        return (error as Error).message
      }
      throw new Error('expected a DeclarationError')
    }
    expect(failure(() => on('Order', noop))).toBe(
      `on('Order'): "Order" is not an event pattern (did you mean 'Order.*'?); write 'Noun.verb', 'Noun.*', '*.verb' or '*'`,
    )
    expect(failure(() => on('Order..created', noop))).toMatch(/"Order\.\.created" is not an event pattern/)
    expect(failure(() => on([], noop))).toMatch(/the list of events is empty/)
    expect(failure(() => on($.Order.created, 'nope' as never))).toBe(
      `on('Order.created'): the handler must be a function, got "nope"`,
    )
    expect(failure(() => on($.Order.created, noop, { retries: 3 } as never))).toBe(
      `on('Order.created'): unknown option "retries" (did you mean "retry"?); known options are retry, timeout, concurrency, idempotencyKey, priority, cache, rateLimit, circuitBreaker, fallback, name, debounce`,
    )
    expect(failure(() => on($.Order.created, noop, { timeout: 'soon' as never }))).toMatch(
      /on\('Order.created'\): timeout is invalid \(expected milliseconds or a duration like '30s'\), got "soon"/,
    )
    expect(failure(() => on($.Order.created, noop, { retry: { attempts: 0 } }))).toMatch(/on\('Order.created'\): retry/)
    // A typo inside a policy is an error too, never a silent default; so is a zero time limit or window.
    expect(failure(() => on($.Order.created, noop, { rateLimit: { limit: 5, windw: '1s' } as never }))).toMatch(
      /on\('Order.created'\): .*rateLimit.*windw/,
    )
    expect(failure(() => on($.Order.created, noop, { circuitBreaker: { thresold: 1 } as never }))).toMatch(/thresold/)
    expect(failure(() => on($.Order.created, noop, { cache: { tll: '1s' } as never }))).toMatch(/tll/)
    expect(failure(() => on($.Order.created, noop, { timeout: 0 }))).toMatch(
      /on\('Order.created'\): timeout is invalid \(expected a duration of more than 0\), got 0/,
    )
    expect(failure(() => on($.Order.created, noop, { rateLimit: { limit: 1, window: '0s' } }))).toMatch(
      /rateLimit.*more than 0/,
    )
    expect(
      failure(() => {
        on($.Order.created, noop, { name: 'same' })
        on($.Order.paid, noop, { name: 'same' })
      }),
    ).toMatch(/duplicate handler "same" in business "bad": declared at .*on\.test\.ts.* and again at .*on\.test\.ts/)
  })
})

describe('matches', () => {
  it.each([
    ['Order.created', 'Order.created', true],
    ['Order.created', 'Order.paid', false],
    ['Order.*', 'Order.paid', true],
    ['Order.*', 'Payment.paid', false],
    ['*.created', 'Customer.created', true],
    ['*.created', 'Customer.purchases.Product', false],
    ['*', 'Anything.at.all', true],
    ['Customer.*.Product', 'Customer.purchases.Product', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected)
  })
})
