import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { bindContext } from './context.ts'
import { isNoRuntimeError } from './errors.ts'
import { $ } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'
import { isRef, ref, refPath } from './ref.ts'

describe('$ references', () => {
  it('are memoised and frozen', () => {
    expect($.Order.created).toBe($.Order.created)
    expect($.Order).toBe($.Order)
    expect(Object.isFrozen($.Order.created)).toBe(true)
    expect(() => {
      ;($.Order.created as unknown as Record<string, unknown>).extra = 1
    }).toThrow(TypeError)
  })

  it('behave as their dotted string', () => {
    const r = $.Order.created
    expect(String(r)).toBe('Order.created')
    expect(`${r}`).toBe('Order.created')
    expect(`on ${r}!`).toBe('on Order.created!')
    expect(r.toString()).toBe('Order.created')
    expect(JSON.stringify({ event: r })).toBe('{"event":"Order.created"}')
    expect(JSON.stringify(r)).toBe('"Order.created"')
    expect(r.path).toBe('Order.created')
  })

  it('work as Map keys and computed object keys', () => {
    const map = new Map([[$.Order.created, 'a']])
    expect(map.get($.Order.created)).toBe('a')
    const handlers = { [$.Order.created]: 1, [$.Payment.failed]: 2 }
    expect(Object.keys(handlers)).toEqual(['Order.created', 'Payment.failed'])
  })

  it('expose subject, predicate and object for two, three and one parts', () => {
    expect($.Order.created.subject).toBe('Order')
    expect($.Order.created.predicate).toBe('created')
    expect($.Order.created.object).toBeUndefined()
    const triple = $.Customer.purchases.Product
    expect(String(triple)).toBe('Customer.purchases.Product')
    expect([triple.subject, triple.predicate, triple.object]).toEqual(['Customer', 'purchases', 'Product'])
    expect(String($.belongsTo)).toBe('belongsTo')
    expect($.belongsTo.predicate).toBe('belongsTo')
    expect($.belongsTo.subject).toBeUndefined()
    expect($.Product.subject).toBe('Product')
    expect($.Product.parts).toEqual(['Product'])
  })

  it('can be awaited without hanging', async () => {
    expect(($ as unknown as { then?: unknown }).then).toBeUndefined()
    expect(($.Order as unknown as { then?: unknown }).then).toBeUndefined()
    await expect(
      Promise.race([(async () => await $.Order)(), new Promise((r) => setTimeout(() => r('hung'), 100))]),
    ).resolves.toBe($.Order)
    await expect((async () => await $)()).resolves.toBe($)
  })

  it('do not pose as matchers or DOM nodes to tools that probe objects', () => {
    const probed = $.Order as unknown as Record<string, unknown>
    expect(probed.asymmetricMatch).toBeUndefined()
    expect(probed.nodeType).toBeUndefined()
    expect(probed.$$typeof).toBeUndefined()
    expect([{ on: $.Order.created }]).toEqual([{ on: $.Order.created }])
  })

  it('print as $.Path in logs', () => {
    expect(inspect($.Order.created)).toBe('$.Order.created')
    expect(inspect({ on: $.Order.created })).toContain('$.Order.created')
  })

  it('come from strings too, with or without the seeds’ $. prefix', () => {
    expect(ref('Order.created')).toBe($.Order.created)
    expect(ref('$.Order.created')).toBe($.Order.created)
    expect($('Order.created')).toBe($.Order.created)
    expect(refPath('$.Product')).toBe('Product')
    expect(isRef($.Order.created)).toBe(true)
    expect(isRef('Order.created')).toBe(false)
    expect(() => ref('Order..created')).toThrow(/every part of a reference must be a name.*got ""/)
  })

  it('call the db for a noun’s db verbs, through the bound context', async () => {
    const { context, calls } = recordingContext()
    await bindContext(context, async () => {
      await $.Product.create({ name: 'Lamp' })
      await $.Product.get('p1')
      await $.Product.update('p1', { price: 2 })
      await $.Product.delete('p1')
      await $.Product.find({ price: { $lt: 5 } })
    })
    expect(calls).toEqual([
      { method: 'db.create', args: ['Product', { name: 'Lamp' }] },
      { method: 'db.get', args: ['Product', 'p1'] },
      { method: 'db.update', args: ['Product', 'p1', { price: 2 }] },
      { method: 'db.delete', args: ['Product', 'p1'] },
      { method: 'db.find', args: ['Product', { price: { $lt: 5 } }] },
    ])
  })

  it('send when called with any other verb', async () => {
    const { context, calls } = recordingContext()
    const result = await bindContext(context, () => $.Email.send({ to: 'a@b.c' }, { idempotencyKey: 'k' }))
    expect(result).toBe('send result')
    expect(calls).toEqual([{ method: 'send', args: ['Email.send', { to: 'a@b.c' }, { idempotencyKey: 'k' }] }])
  })

  it('fail clearly when no runtime is bound', async () => {
    const failure = (() => {
      try {
        $.Product.create({ name: 'Lamp' })
      } catch (error) {
        return error
      }
    })()
    expect(isNoRuntimeError(failure)).toBe(true)
    expect((failure as Error).message).toMatch(
      /\$\.Product\.create\(\) needs a running business.*bac dev.*createRuntime/,
    )
  })
})
