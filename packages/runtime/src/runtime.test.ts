import {
  $,
  business,
  events,
  every,
  isValidationError,
  NonRetryableError,
  on,
  send,
  sleep,
  step,
  waitForEvent,
} from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { virtualClock } from './clock/virtual-clock.ts'
import { jsonLogger } from './json-logger.ts'
import { createRuntime, type Runtime } from './runtime.ts'
import { announcePostgresSkip, testStores } from './store/test-stores.fixture.ts'

beforeAll(announcePostgresSkip)

describe.each(testStores)('the runtime on $name', ({ make }) => {
  let rt: Runtime | undefined
  const lines: Record<string, unknown>[] = []
  const start = async (define: () => void, options: { concurrency?: number } = {}) => {
    const clock = virtualClock('2026-03-02T08:00:00Z')
    lines.length = 0
    rt = await createRuntime({
      business: business('test', define),
      store: await make(),
      clock,
      logger: jsonLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)), now: clock.now }),
      random: () => 0.5,
      ...options,
    })
    await rt.start()
    return { rt, clock }
  }
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  it('delivers an event to every matching handler, each delivery its own run', async () => {
    const seen: string[] = []
    const { rt } = await start(() => {
      on($.Order.created, (order: { id: string }, ctx) => {
        seen.push(`exact ${order.id} ${ctx.run?.kind}`)
      })
      on('Order.*', (order: { id: string }) => {
        seen.push(`noun ${order.id}`)
      })
      on('*.created', (order: { id: string }) => {
        seen.push(`verb ${order.id}`)
      })
      on($.Order.paid, () => {
        seen.push('never')
      })
    })
    const id = await rt.send($.Order.created, { id: 'o1' })
    expect(typeof id).toBe('string')
    await rt.drain()
    expect(seen.sort()).toEqual(['exact o1 handler', 'noun o1', 'verb o1'])
    const runs = await rt.runs.list()
    expect(runs).toHaveLength(3)
    expect(runs.every((r) => r.status === 'completed' && r.eventId === id)).toBe(true)
  })

  it('calls the operation that implements a verb and returns its result', async () => {
    const { rt } = await start(() => {
      $.service({
        name: 'PaymentService',
        operations: {
          process: {
            input: z.object({ amount: z.number().positive() }),
            output: z.object({ paymentId: z.string() }),
            handler: async ({ amount }) => ({ paymentId: `pay-${amount}` }),
          },
          broken: { output: z.object({ ok: z.boolean() }), handler: () => ({ ok: 'yes' }) },
        },
      })
    })
    expect(await rt.send($.Payment.process, { amount: 12 })).toEqual({ paymentId: 'pay-12' })
    const bad = await rt.send($.Payment.process, { amount: -1 }).catch((e: unknown) => e)
    expect(isValidationError(bad)).toBe(true)
    expect((bad as Error).message).toBe('PaymentService.process input: amount must be more than 0, got -1')
    expect(await rt.runs.list({ kind: 'operation' })).toHaveLength(1)
    const wrongOutput = await rt.send($.Payment.broken, {}).catch((e: unknown) => e)
    expect((wrongOutput as Error).message).toBe('PaymentService.broken output: ok must be a boolean, got "yes"')
    const [letter] = await rt.dlq.list()
    expect(letter).toMatchObject({ name: 'PaymentService.broken', error: { name: 'ValidationError' } })
    expect(letter?.attempts).toHaveLength(1)
  })

  it('validates zod-registered event payloads when sent, writing nothing for a bad one', async () => {
    const { rt } = await start(() => {
      events({ Order: { created: z.object({ id: z.string(), total: z.number() }) } })
      on($.Order.created, () => {})
    })
    const error = await rt.send($.Order.created, { id: 'o1', total: '10' }).catch((e: unknown) => e)
    expect((error as Error).message).toBe('Order.created payload: total must be a number, got "10"')
    expect(await rt.runs.list()).toEqual([])
  })

  it('refuses an idempotency key that is not a non-empty string, writing nothing', async () => {
    const { rt } = await start(() => {
      on($.Order.created, () => {})
      $.service({ name: 'Billing', operations: { charge: () => 'charged' } })
    })
    for (const [key, received] of [
      [{}, 'object {}'],
      ['', 'an empty string'],
      [null, 'object null'],
      [5, 'number 5'],
    ] as const) {
      const options = { idempotencyKey: key as unknown as string }
      for (const send of [() => rt.send($.Order.created, {}, options), () => rt.send($.Billing.charge, {}, options)]) {
        const error = await send().catch((e: unknown) => e)
        expect(error).toMatchObject({
          name: 'ValidationError',
          message: `idempotencyKey must be a non-empty string, got ${received}`,
          issues: [{ path: 'idempotencyKey', expected: 'a non-empty string', received }],
        })
      }
    }
    expect(await rt.runs.list()).toEqual([])
  })

  it('replays finished steps on retry instead of running them again', async () => {
    const bodies = { charge: 0, ship: 0 }
    let failShip = true
    const { rt, clock } = await start(() => {
      on($.Order.created, async () => {
        await step('charge', () => ++bodies.charge)
        await step('ship', () => {
          bodies.ship++
          if (failShip) throw new Error('carrier down')
          return 'shipped'
        })
      })
    })
    await rt.send($.Order.created, {})
    await rt.drain()
    const [run] = await rt.runs.list()
    expect(run).toMatchObject({ status: 'waiting', failures: 1, waits: [{ kind: 'retry' }] })
    expect(run?.availableAt).toBe(clock.now() + 750)
    failShip = false
    await clock.advance('1s')
    await rt.drain()
    const detail = await rt.runs.get(run?.id ?? '')
    expect(detail?.status).toBe('completed')
    expect(detail?.steps.map((s) => [s.key, s.result])).toEqual([
      ['charge', 1],
      ['ship', 'shipped'],
    ])
    expect(bodies).toEqual({ charge: 1, ship: 2 })
  })

  it('gives sends inside a run ids from the run and their position, so a retry never publishes twice', async () => {
    let attempt = 0
    const { rt, clock } = await start(() => {
      on($.Order.created, async () => {
        await send($.Email.requested, { n: 1 })
        await send($.Email.requested, { n: 2 })
        if (++attempt === 1) throw new Error('flaky')
      })
      on($.Email.requested, () => {})
    })
    await rt.send($.Order.created, {})
    await rt.drain()
    await clock.advance('1s')
    await rt.drain()
    const emails = await rt.runs.list({ name: 'Email.requested' })
    expect(attempt).toBe(2)
    expect(emails).toHaveLength(2)
    expect(emails.map((r) => (r.input as { n: number }).n).sort()).toEqual([1, 2])
  })

  it('backs off exponentially, then files the run in the dead-letter queue with its history', async () => {
    let calls = 0
    const { rt, clock } = await start(() => {
      on(
        $.Order.created,
        () => {
          calls++
          throw new Error(`still failing ${calls}`)
        },
        { retry: { attempts: 4, initialDelay: '1s', factor: 3, jitter: false } },
      )
    })
    await rt.send($.Order.created, { id: 'o1' })
    const waits: number[] = []
    for (let i = 0; i < 4; i++) {
      await rt.drain()
      const [run] = await rt.runs.list()
      if (run?.status !== 'waiting') break
      waits.push(run.availableAt - clock.now())
      await clock.advanceTo(run.availableAt)
    }
    expect(waits).toEqual([1000, 3000, 9000])
    const [run] = await rt.runs.list()
    expect(run).toMatchObject({ status: 'failed', failures: 4, error: { message: 'still failing 4' } })
    const [letter] = await rt.dlq.list()
    expect(letter).toMatchObject({ runId: run?.id, payload: { id: 'o1' }, error: { message: 'still failing 4' } })
    expect(letter?.error.stack).toContain('runtime.test.ts')
    expect(letter?.attempts.map((a) => a.error.message)).toEqual([
      'still failing 1',
      'still failing 2',
      'still failing 3',
      'still failing 4',
    ])
    expect(
      lines.some((l) => l.message === 'run failed; moved to the dead-letter queue' && l.deadLetter === letter?.id),
    ).toBe(true)
  })

  it('replays a dead letter after the cause is fixed, and discards one', async () => {
    let fixed = false
    const { rt } = await start(() => {
      on(
        $.Order.created,
        async () => {
          await step('before', () => 'kept')
          if (!fixed) throw new Error('bug')
          return 'done'
        },
        { retry: false },
      )
    })
    await rt.send($.Order.created, { id: 'a' })
    await rt.send($.Order.created, { id: 'b' })
    await rt.drain()
    const letters = await rt.dlq.list()
    expect(letters).toHaveLength(2)
    fixed = true
    const [first, second] = letters
    const replayed = await rt.dlq.replay(first?.id ?? '')
    await rt.dlq.discard(second?.id ?? '')
    await rt.drain()
    expect(await rt.runs.get(replayed.id)).toMatchObject({ status: 'completed', result: 'done' })
    expect((await rt.runs.get(second?.runId ?? ''))?.status).toBe('discarded')
    expect(await rt.dlq.list()).toEqual([])
    await expect(rt.dlq.replay('nope')).rejects.toThrow('no dead letter nope')
  })

  it('replays a caller together with the operation whose failure dead-lettered it', async () => {
    let fixed = false
    const { rt } = await start(() => {
      $.service({
        name: 'Tax',
        operations: {
          compute: (amount: number) => {
            if (!fixed) throw new NonRetryableError('rate table missing')
            return amount * 0.2
          },
        },
      })
      on($.Invoice.created, async (invoice: { amount: number }) => send($.Tax.compute, invoice.amount), {
        retry: false,
      })
    })
    await rt.send($.Invoice.created, { amount: 100 })
    await rt.drain()
    const [letter] = await rt.dlq.list()
    expect(letter).toMatchObject({ name: 'Invoice.created', error: { message: 'rate table missing' } })
    expect(await rt.runs.list({ kind: 'operation', status: 'failed' })).toHaveLength(1)
    fixed = true
    const replayed = await rt.dlq.replay(letter?.id ?? '')
    await rt.drain()
    expect(await rt.runs.get(replayed.id)).toMatchObject({ status: 'completed', result: 20 })
    expect(await rt.runs.list({ kind: 'operation' })).toMatchObject([{ status: 'completed', result: 20 }])
  })

  it('does not retry errors that say so, or that the policy lists', async () => {
    class CardDeclined extends Error {
      override name = 'CardDeclined'
    }
    const { rt } = await start(() => {
      on($.A.happened, () => {
        throw new NonRetryableError('no such customer')
      })
      on(
        $.B.happened,
        () => {
          throw new CardDeclined('declined')
        },
        { retry: { attempts: 5, nonRetryable: ['CardDeclined'] } },
      )
      on(
        $.C.happened,
        () => {
          throw new CardDeclined('declined')
        },
        { retry: { attempts: 5, nonRetryable: [CardDeclined] } },
      )
    })
    for (const event of [$.A.happened, $.B.happened, $.C.happened]) await rt.send(event, {})
    await rt.drain()
    const runs = await rt.runs.list()
    expect(runs.map((r) => [r.status, r.failures])).toEqual([
      ['failed', 1],
      ['failed', 1],
      ['failed', 1],
    ])
  })

  it('times out an attempt and a step on the clock, and retries', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      on($.Slow.run, async () => (++attempts === 1 ? new Promise(() => {}) : 'fast'), { timeout: '5s', retry: 2 })
      on($.Slow.step, async () => step('wait', () => new Promise(() => {}), { timeout: 1000 }), { retry: false })
    })
    await rt.send($.Slow.run, {})
    await rt.send($.Slow.step, {})
    const drained = rt.drain()
    await clock.advance('6s')
    await drained
    const byName = Object.fromEntries((await rt.runs.list()).map((r) => [r.name, r]))
    expect(byName['Slow.run']).toMatchObject({ status: 'completed', result: 'fast', failures: 1 })
    expect(byName['Slow.run']?.history[0]?.error).toMatchObject({
      name: 'TimeoutError',
      message: 'handler "Slow.run" timed out after 5000 ms',
    })
    expect(byName['Slow.step']).toMatchObject({
      status: 'failed',
      error: { name: 'TimeoutError', message: 'step "wait" timed out after 1000 ms' },
    })
  })

  it('runs a duplicate send, a duplicate payload key and a duplicate call once', async () => {
    let handled = 0
    let charged = 0
    const { rt } = await start(() => {
      on($.Order.created, () => handled++, { idempotencyKey: (order: { id: string }) => order.id })
      $.service({ name: 'PaymentService', operations: { charge: (n: number) => ({ n, charge: ++charged }) } })
    })
    const first = await rt.send($.Order.created, { id: 'o1' }, { idempotencyKey: 'req-1' })
    const again = await rt.send($.Order.created, { id: 'o1', retry: true }, { idempotencyKey: 'req-1' })
    await rt.send($.Order.created, { id: 'o1', via: 'other request' })
    expect(again).toBe(first)
    const paid = await rt.send($.Payment.charge, 5, { idempotencyKey: 'pay-1' })
    const paidAgain = await rt.send($.Payment.charge, 5, { idempotencyKey: 'pay-1' })
    await rt.drain()
    expect(handled).toBe(1)
    expect(paidAgain).toEqual(paid)
    expect(charged).toBe(1)
  })

  it('sleeps durably and wakes when the time comes', async () => {
    const { rt, clock } = await start(() => {
      on($.Trial.started, async () => {
        await step('welcome', () => 'sent')
        await sleep('3d')
        return step('nudge', () => 'nudged')
      })
    })
    await rt.send($.Trial.started, {})
    await rt.drain()
    const [run] = await rt.runs.list()
    expect(run).toMatchObject({ status: 'waiting', waits: [{ kind: 'sleep' }] })
    await clock.advance('2d')
    await rt.drain()
    expect((await rt.runs.get(run?.id ?? ''))?.status).toBe('waiting')
    await clock.advance('1d')
    await rt.drain()
    expect(await rt.runs.get(run?.id ?? '')).toMatchObject({ status: 'completed', result: 'nudged' })
  })

  it('waits for a matching event, or gives up after the timeout', async () => {
    const { rt, clock } = await start(() => {
      on($.Order.placed, async (order: { id: string }) => {
        const shipped = await waitForEvent($.Order.shipped, { match: { orderId: order.id }, timeout: '1d' })
        return shipped ?? 'gave up'
      })
    })
    await rt.send($.Order.placed, { id: 'a' })
    await rt.send($.Order.placed, { id: 'b' })
    await rt.drain()
    await rt.send($.Order.shipped, { orderId: 'x' })
    await rt.send($.Order.shipped, { orderId: 'a', carrier: 'ups' })
    await rt.drain()
    const runs = await rt.runs.list({ name: 'Order.placed' })
    const byOrder = Object.fromEntries(runs.map((r) => [(r.input as { id: string }).id, r]))
    expect(byOrder.a).toMatchObject({ status: 'completed', result: { orderId: 'a', carrier: 'ups' } })
    expect(byOrder.b).toMatchObject({ status: 'waiting', waits: [{ kind: 'event', pattern: 'Order.shipped' }] })
    await clock.advance('1d')
    await rt.drain()
    expect(await rt.runs.get(byOrder.b?.id ?? '')).toMatchObject({ status: 'completed', result: 'gave up' })
  })

  it('suspends a caller while the operation it called retries, and resumes it with the result', async () => {
    let attempts = 0
    const { rt, clock } = await start(() => {
      $.service({
        name: 'Inventory',
        operations: {
          reserve: (sku: string) => {
            if (++attempts < 3) throw new Error('warehouse busy')
            return { sku, reserved: true }
          },
        },
      })
      on($.Order.created, async () => {
        const reservation = await send($.Inventory.reserve, 'lamp')
        return step('confirm', () => reservation)
      })
    })
    await rt.send($.Order.created, {})
    await rt.drain()
    const [parent] = await rt.runs.list({ kind: 'handler' })
    expect(parent).toMatchObject({ status: 'waiting', waits: [{ kind: 'run' }] })
    for (let i = 0; i < 3; i++) {
      await clock.advance('5s')
      await rt.drain()
    }
    expect(await rt.runs.get(parent?.id ?? '')).toMatchObject({
      status: 'completed',
      result: { sku: 'lamp', reserved: true },
    })
    const [child] = await rt.runs.list({ kind: 'operation' })
    expect(child).toMatchObject({ parentId: parent?.id, status: 'completed', failures: 2 })
  })

  it('keys what runs inside a step by the step, so replays never mix up calls', async () => {
    let failOnce = true
    const { rt, clock } = await start(() => {
      $.service({ name: 'Echo', operations: { say: (word: string) => word } })
      on($.Order.created, async () => {
        const first = await step('first', () => send($.Echo.say, 'one'))
        const second = await step('second', async () => {
          await sleep('1m')
          return send($.Echo.say, 'two')
        })
        if (failOnce) {
          failOnce = false
          throw new Error('after both steps')
        }
        return [first, second, await send($.Echo.say, 'three')]
      })
    })
    await rt.send($.Order.created, {})
    await rt.drain()
    await clock.advance('1m')
    await rt.drain()
    await clock.advance('1s')
    await rt.drain()
    const [run] = await rt.runs.list({ kind: 'handler' })
    expect(run).toMatchObject({ status: 'completed', result: ['one', 'two', 'three'], failures: 1 })
    expect((await rt.runs.list({ kind: 'operation' })).map((r) => r.result).sort()).toEqual(['one', 'three', 'two'])
  })

  it('wakes a run racing two waits on whichever happens first', async () => {
    const { rt } = await start(() => {
      on($.Order.placed, async () => {
        const first = await Promise.race([waitForEvent($.Order.paid), waitForEvent($.Order.cancelled)])
        return first
      })
    })
    await rt.send($.Order.placed, {})
    await rt.drain()
    await rt.send($.Order.cancelled, { why: 'changed mind' })
    await rt.drain()
    expect((await rt.runs.list({ name: 'Order.placed' }))[0]).toMatchObject({
      status: 'completed',
      result: { why: 'changed mind' },
    })
  })

  it('stores a step that ends while a branch beside it sleeps, then sleeps', async () => {
    // (Once, storing such a step starved the event loop: a regression hangs this test.)
    const { rt, clock } = await start(() => {
      on($.Report.requested, async () => {
        const [pdf] = await Promise.all([
          step('render', async () => {
            await new Promise((resolve) => setTimeout(resolve, 20)) // real I/O time, not the clock's
            return 'pdf'
          }),
          sleep('1h'),
        ])
        await step('mail', () => `mailed ${pdf}`)
      })
    })
    await rt.send($.Report.requested, {})
    await rt.drain()
    const [report] = await rt.runs.list()
    expect(report?.status).toBe('waiting')
    const steps = async () => (await rt.runs.get(report?.id ?? ''))?.steps.map((s) => [s.key, s.result])
    expect(await steps()).toContainEqual(['render', 'pdf'])
    await clock.advance('1h')
    await rt.drain()
    expect((await rt.runs.list())[0]?.status).toBe('completed')
    expect(await steps()).toContainEqual(['mail', 'mailed pdf'])
  })

  it('finishes a run whose race a step won over a sleep, rather than waiting out the sleep', async () => {
    const bodies: string[] = []
    const { rt } = await start(() => {
      on($.Quote.requested, async () => {
        const quick = await Promise.race([
          step('ask partner', async () => {
            await new Promise((resolve) => setTimeout(resolve, 20)) // real I/O time, not the clock's
            return 'partner price'
          }),
          sleep('1h').then(() => 'list price'),
        ])
        await step('reply', async () => {
          await new Promise((resolve) => setTimeout(resolve, 20))
          bodies.push(`reply with ${quick}`)
        })
      })
    })
    await rt.send($.Quote.requested, {})
    await rt.drain()
    expect((await rt.runs.list())[0]?.status).toBe('completed')
    expect(bodies).toEqual(['reply with partner price'])
  })

  it('keeps each parallel branch’s sleep its own, whichever branch gets to it first on a replay', async () => {
    const done: string[] = []
    const io = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)) // real I/O time
    const { rt, clock } = await start(() => {
      on($.Trip.planned, async () => {
        await Promise.all([
          (async () => {
            await step('book hotel', () => io(40)) // slow: its sleep begins second, replayed it begins first
            await sleep('1d')
            await step('check in', () => done.push('check in'))
          })(),
          (async () => {
            await step('book taxi', () => io(5))
            await sleep('1m')
            await step('ride', () => done.push('ride'))
          })(),
        ])
      })
    })
    await rt.send($.Trip.planned, {})
    await rt.drain()
    await clock.advance('1m')
    await rt.drain()
    expect(done).toEqual(['ride'])
    await clock.advance('1d')
    await rt.drain()
    expect(done).toEqual(['ride', 'check in'])
  })

  it('ends a suspended attempt: a step time limit striking later changes nothing', async () => {
    const branches: string[] = []
    const { rt, clock } = await start(() => {
      on(
        $.Trial.started,
        async () => {
          try {
            await step(
              'onboarding',
              async () => {
                await sleep('1h')
                return 'done'
              },
              { timeout: '5m' },
            )
            await step('welcome', () => branches.push('welcome'))
          } catch {
            await step('apologise', () => branches.push('apologise'))
          }
        },
        { retry: false },
      )
    })
    await rt.send($.Trial.started, {})
    await rt.drain()
    await clock.advance('5m') // the suspended attempt's time limit: no longer anyone's
    await rt.drain()
    expect(branches).toEqual([])
    await clock.advance('55m')
    await rt.drain()
    expect(branches).toEqual(['welcome'])
    expect((await rt.runs.list())[0]?.status).toBe('completed')
  })

  it('times out a run whose step hangs beside a branch that sleeps', async () => {
    const { rt, clock } = await start(() => {
      on(
        $.Sync.requested,
        async () => {
          await Promise.all([sleep('1h'), step('hang', () => new Promise(() => {}))])
        },
        { timeout: '2s', retry: false },
      )
    })
    await rt.send($.Sync.requested, {})
    await clock.advance('2s')
    await rt.drain()
    const [run] = await rt.runs.list()
    expect(run).toMatchObject({ status: 'failed', error: { name: 'TimeoutError' } })
  })

  it('fails for good, with a clear error, a run whose result cannot be stored', async () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    const { rt } = await start(() => {
      on($.Invoice.created, () => new Money(100))
      on($.Invoice.paid, () => step('amount', () => new Money(5)))
      on($.Invoice.named, () => step('a#b', () => 1))
    })
    await rt.send($.Invoice.created, {})
    await rt.send($.Invoice.paid, {})
    await rt.send($.Invoice.named, {})
    await rt.drain()
    const byName = Object.fromEntries((await rt.runs.list()).map((r) => [r.name, r]))
    expect(byName['Invoice.created']).toMatchObject({ status: 'failed', failures: 1 })
    expect(byName['Invoice.created']?.error?.message).toMatch(
      /^the result of handler "Invoice.created" cannot be stored durably: Cannot stringify arbitrary non-POJOs\. Return plain data/,
    )
    expect(byName['Invoice.paid']?.error?.message).toMatch(/^the result of step "amount" cannot be stored durably/)
    expect(byName['Invoice.named']?.error?.message).toMatch(/step\(\): a step needs a name without "\/" or "#"/)
  })

  it('keeps to the concurrency limit of the runtime and of a handler', async () => {
    let active = 0
    let peak = 0
    let limitedActive = 0
    let limitedPeak = 0
    const { rt, clock } = await start(
      () => {
        on($.Job.queued, async () => {
          active++
          peak = Math.max(peak, active)
          await step('work', () => new Promise((resolve) => clock.setTimer(() => resolve(1), 100)))
          active--
        })
        on(
          $.Job.limited,
          async () => {
            limitedActive++
            limitedPeak = Math.max(limitedPeak, limitedActive)
            await step('work', () => new Promise((resolve) => clock.setTimer(() => resolve(1), 100)))
            limitedActive--
          },
          { concurrency: 2 },
        )
      },
      { concurrency: 4 },
    )
    for (let i = 0; i < 10; i++) await rt.send($.Job.queued, { i })
    for (let i = 0; i < 6; i++) await rt.send($.Job.limited, { i })
    const drained = rt.drain()
    for (let i = 0; i < 20; i++) await clock.advance(100)
    await drained
    expect(peak).toBe(4)
    expect(limitedPeak).toBe(2)
    expect((await rt.runs.list({ status: 'completed' })).length).toBe(16)
  })

  it('fires schedules on time, once per tick', async () => {
    const ticks: string[] = []
    const { rt, clock } = await start(() => {
      every('minute', ({ scheduledAt }) => {
        ticks.push(scheduledAt.toISOString())
      })
    })
    await clock.advance('3m')
    await rt.drain()
    expect(ticks).toEqual(['2026-03-02T08:01:00.000Z', '2026-03-02T08:02:00.000Z', '2026-03-02T08:03:00.000Z'])
  })

  it('dead-letters a run whose handler no longer exists', async () => {
    const { rt } = await start(() => {})
    await rt.store.enqueue({
      id: 'orphan',
      kind: 'handler',
      name: 'removedHandler',
      input: {},
      availableAt: rt.clock.now(),
    })
    await rt.drain()
    const [letter] = await rt.dlq.list()
    expect(letter).toMatchObject({ runId: 'orphan', error: { name: 'UnknownTargetError' } })
    expect(letter?.error.message).toMatch(/handler "removedHandler" is not in business "test"/)
  })

  it('binds the ambient verbs outside any run with rt.run', async () => {
    const seen: unknown[] = []
    const { rt } = await start(() => {
      on($.Ping.sent, (payload) => {
        seen.push(payload)
      })
    })
    await rt.run(() => send($.Ping.sent, { from: 'outside' }))
    await rt.drain()
    expect(seen).toEqual([{ from: 'outside' }])
  })
})
