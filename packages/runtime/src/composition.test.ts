import { $, type Composition } from '@bac/sdk'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from './runtime.ts'
import { announcePostgresSkip, testStores } from './store/test-stores.fixture.ts'
import { testRuntime } from './test-runtime.fixture.ts'

beforeAll(announcePostgresSkip)

interface Lead {
  email: string
  total: number
}

describe.each(testStores)('compositions on $name', ({ make }) => {
  let rt: Runtime | undefined
  afterEach(async () => {
    await rt?.stop()
    rt = undefined
  })

  it('run in sequence (each result feeds the next), in parallel (merged), and by condition', async () => {
    const journal: string[] = []
    let flow: Composition | undefined
    let enrich: Composition | undefined
    let pay: Composition | undefined
    ;({ rt } = await testRuntime(await make(), () => {
      const Validate = $.service({
        name: 'OrderValidationService',
        operations: { validate: (o: Lead) => ({ ...o, valid: true }) },
      })
      const Payment = $.service({
        name: 'PaymentService',
        operations: { process: (o: Lead) => ({ ...o, paid: true }) },
      })
      const Fulfil = $.service({
        name: 'FulfillmentService',
        operations: { execute: (o: Lead) => ({ ...o, shipped: true }) },
      })
      flow = $.compose([Validate, Payment, Fulfil])
      enrich = $.compose.parallel([
        (lead: Lead) => ({ emailValid: lead.email.includes('@') }),
        (lead: Lead) => ({ company: lead.email.split('@')[1] }),
      ])
      const Basic = $.service({ name: 'Basic', operations: { run: () => journal.push('basic') && 'basic' } })
      const Enterprise = $.service({
        name: 'Enterprise',
        operations: { run: () => journal.push('enterprise') && 'enterprise' },
      })
      const Standard = $.service({
        name: 'Standard',
        operations: { run: () => journal.push('standard') && 'standard' },
      })
      pay = $.compose.conditional({
        conditions: [
          { when: (o: Lead) => o.total < 100, use: Basic },
          { when: (o: Lead) => o.total >= 1000, use: Enterprise },
        ],
        default: Standard,
      })
    }))
    const runtime = rt
    const lead = { email: 'ann@acme.io', total: 50 }
    expect(await runtime.run(() => flow?.execute(lead))).toEqual({ ...lead, valid: true, paid: true, shipped: true })
    expect(await runtime.run(() => enrich?.execute(lead))).toEqual({ emailValid: true, company: 'acme.io' })
    expect(await runtime.run(() => pay?.execute({ email: 'a@b', total: 50 }))).toBe('basic')
    expect(await runtime.run(() => pay?.execute({ email: 'a@b', total: 5000 }))).toBe('enterprise')
    expect(await runtime.run(() => pay?.execute({ email: 'a@b', total: 500 }))).toBe('standard')
    const runs = await runtime.runs.list({ kind: 'composition' })
    expect(runs).toHaveLength(5)
    expect(runs.every((r) => r.status === 'completed')).toBe(true)
  })

  it('fail as a whole when one parallel branch fails', async () => {
    let lookups = 0
    let enrich: Composition | undefined
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(await make(), () => {
      $.service({
        name: 'Verify',
        operations: {
          run: {
            retry: false,
            handler: () => {
              throw new Error('verifier down')
            },
          },
        },
      })
      enrich = $.compose.parallel([() => ({ company: 'acme', lookups: ++lookups }), $.Verify.run], { name: 'enrich' })
    }))
    const runtime = rt
    const outcome = runtime.run(() => (enrich as Composition).execute({})).catch((e: Error) => e)
    // The composition is retried by the default policy; the failed branch fails each time.
    for (let i = 0; i < 4; i++) {
      await runtime.drain()
      await t.clock.advance('10s')
    }
    expect(((await outcome) as Error).message).toBe('verifier down')
    expect(lookups).toBe(1)
    expect((await runtime.runs.list({ kind: 'composition' }))[0]).toMatchObject({ status: 'failed', failures: 3 })
  })

  it('resume without redoing the elements that finished', async () => {
    const ran = { first: 0, flaky: 0 }
    let flow: Composition | undefined
    let t: Awaited<ReturnType<typeof testRuntime>>
    ;({ rt } = t = await testRuntime(await make(), () => {
      flow = $.compose([
        (n: number) => {
          ran.first++
          return n + 1
        },
        (n: number) => {
          if (++ran.flaky === 1) throw new Error('flaky once')
          return n * 10
        },
      ])
    }))
    const runtime = rt
    const result = runtime.run(() => flow?.execute(1))
    await runtime.drain()
    await t.clock.advance('1s')
    await runtime.drain()
    expect(await result).toBe(20)
    expect(ran).toEqual({ first: 1, flaky: 2 })
  })
})
