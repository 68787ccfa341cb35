import { describe, expect, it } from 'vitest'
import { bindContext } from './context.ts'
import { isNoRuntimeError } from './errors.ts'
import { $, ai, db, log, send, sleep, sleepUntil, step, waitForEvent } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'

describe('ambient verbs', () => {
  it('resolve to the context bound where they are called', async () => {
    const { context, calls } = recordingContext()
    await bindContext(context, async () => {
      await send($.Order.created, { id: 'o1' }, { idempotencyKey: 'o1' })
      await send('$.Order.paid', { id: 'o1' })
      expect(await step('charge', () => 42)).toBe(42)
      await sleep('1h')
      await sleepUntil('2026-12-01T00:00:00Z')
      await waitForEvent($.Order.shipped, { timeout: '7d' })
      await db.create('$.Product', { name: 'Lamp' })
      await db.get($.Product, 'p1')
      await db.related('p1', $.belongsTo, $.Category)
      await db.Products.update('p1', { price: 2 })
      await ai.classify({ text: 'refund please', categories: ['billing', 'support'] })
      await ai`Write a tagline for ${'Lamp'}`
      log.info('done', { id: 'o1' })
    })
    expect(calls.map((c) => [c.method, c.args])).toEqual([
      ['send', ['Order.created', { id: 'o1' }, { idempotencyKey: 'o1' }]],
      ['send', ['Order.paid', { id: 'o1' }, undefined]],
      ['step', ['charge']],
      ['sleep', ['1h']],
      ['sleepUntil', ['2026-12-01T00:00:00Z']],
      ['waitForEvent', ['Order.shipped', { timeout: '7d' }]],
      ['db.create', ['Product', { name: 'Lamp' }]],
      ['db.get', ['Product', 'p1']],
      ['db.related', ['p1', 'belongsTo', 'Category']],
      ['db.collection', ['Products', undefined]],
      ['db.collection(Products).update', ['p1', { price: 2 }]],
      ['ai.classify', [{ text: 'refund please', categories: ['billing', 'support'] }]],
      ['ai.``', [['Write a tagline for ', ''], 'Lamp']],
      ['log.info', ['done', { id: 'o1' }]],
    ])
  })

  it('throw a NoRuntimeError that says how to run the code when nothing is bound', () => {
    const attempts: [string, () => unknown][] = [
      ['send()', () => send($.Order.created, {})],
      ["step('x')", () => step('x', () => 1)],
      ['db.create()', () => db.create('Product', {})],
      ['db.Products.get()', () => db.Products.get('p1')],
      ['ai.generate()', () => ai.generate({ prompt: 'hi' })],
      ['ai``', () => ai`hi`],
      ['waitForEvent()', () => waitForEvent($.Order.shipped)],
    ]
    for (const [what, attempt] of attempts) {
      let error: unknown
      try {
        attempt()
      } catch (e) {
        error = e
      }
      expect(isNoRuntimeError(error), what).toBe(true)
      expect((error as Error).message).toBe(
        `${what} needs a running business, and none is bound here. Run the business with \`bac dev\` (or \`bac start\`), or in code and tests with \`const rt = await createRuntime({ business })\` from '@bac/runtime' and call it from a handler, \`rt.send(...)\` or \`rt.run(() => ...)\`.`,
      )
    }
  })

  it('log to stderr as JSON outside a runtime rather than dropping the line', () => {
    const lines: string[] = []
    const original = console.error
    console.error = (line: string) => lines.push(line)
    try {
      log.child({ service: 'shop' }).warn('low stock', { sku: 's1' })
    } finally {
      console.error = original
    }
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'warn',
      message: 'low stock',
      service: 'shop',
      sku: 's1',
    })
  })

  it('reject a malformed event to wait for at once', () => {
    expect(() => waitForEvent('Order' as never)).toThrow(/waitForEvent\(\): "Order" is not an event pattern/)
  })
})
