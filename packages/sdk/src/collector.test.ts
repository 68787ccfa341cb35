import { describe, expect, it } from 'vitest'
import { activeCollector, collect, defaultCollector } from './collector.ts'
import { $, business, every, on, use } from './index.ts'

const noop = () => {}

describe('collecting a business', () => {
  it('explicitly: business() returns only what its callback declared', () => {
    const shop = business('shop', () => {
      on($.Order.created, noop)
      every('hour', noop)
    })
    const crm = business('crm', () => {
      on($.Lead.captured, noop)
    })
    expect(shop.name).toBe('shop')
    expect(shop.handlers.map((h) => h.patterns[0])).toEqual(['Order.created'])
    expect(shop.schedules).toHaveLength(1)
    expect(crm.handlers.map((h) => h.patterns[0])).toEqual(['Lead.captured'])
    expect(crm.schedules).toHaveLength(0)
    expect(Object.isFrozen(shop)).toBe(true)
    expect(Object.isFrozen(shop.handlers)).toBe(true)
  })

  it('keeps two businesses declared at the same time apart', async () => {
    const slow = (name: string, event: string) =>
      business(name, async () => {
        on(event, noop)
        await new Promise((r) => setTimeout(r, 5))
        on(`${event}Later`, noop)
      })
    const [a, b] = await Promise.all([slow('a', 'A.first'), slow('b', 'B.first')])
    expect(a.handlers.flatMap((h) => h.patterns)).toEqual(['A.first', 'A.firstLater'])
    expect(b.handlers.flatMap((h) => h.patterns)).toEqual(['B.first', 'B.firstLater'])
  })

  it('ambiently: collect() gathers what a module declares while it is imported', async () => {
    const definition = await collect('ambient', async () => {
      await import('./collector.fixture.ts')
    })
    expect(definition.handlers.map((h) => h.name)).toEqual(['fixtureHandler'])
    expect(definition.services.map((s) => s.name)).toEqual(['FixtureService'])
    expect(defaultCollector().has('handler', 'fixtureHandler')).toBe(false)
  })

  it('includes declarations made elsewhere with use(), with all they brought', () => {
    const Payments = $.service({
      name: 'UsePayments',
      handlers: { [$.Order.created]: noop },
      jobs: { settle: { schedule: 'day at 6pm', handler: noop } },
      operations: { charge: (n: number) => n },
    })
    const flow = business('with-use', () => use(Payments))
    expect(flow.services.map((s) => s.name)).toEqual(['UsePayments'])
    expect(flow.handlers.map((h) => h.name)).toEqual(['UsePayments.Order.created'])
    expect(flow.schedules.map((s) => s.name)).toEqual(['UsePayments.settle'])
    expect(() => business('bad-use', () => use({} as never))).toThrow(/use\(\): expected what \$\.service/)
  })

  it('refuses declarations that arrive after the business finished', async () => {
    let late: Promise<unknown> = Promise.resolve()
    business('finished', () => {
      late = new Promise((resolve) => setTimeout(resolve, 1)).then(() => on($.Order.created, noop))
    })
    await expect(late).rejects.toThrow(
      /handler "noop" was declared after business "finished" finished loading\. Declare handlers.*at module top level or inside business\(\)/,
    )
  })

  it('outside any business, collects into the process default instead of throwing', () => {
    on($.Outside.happened, noop, { name: 'outside-handler' })
    expect(activeCollector()).toBe(defaultCollector())
    expect(defaultCollector().has('handler', 'outside-handler')).toBe(true)
  })

  it('needs a name and a function', () => {
    expect(() => business('', noop)).toThrow(/business\(\): the business needs a name/)
    expect(() => business('x', 'nope' as never)).toThrow(/the second argument must be a function/)
  })
})
