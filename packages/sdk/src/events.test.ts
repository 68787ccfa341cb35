import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { business } from './collector.ts'
import { isDeclarationError, isValidationError } from './errors.ts'
import { $, events, on } from './index.ts'
import { validate } from './schema.ts'

const Order = z.object({ id: z.string(), total: z.number() })

describe('events()', () => {
  it('registers schemas with the business and returns the same references as $', () => {
    let vocabulary: ReturnType<typeof events<{ Order: { created: typeof Order } }>> | undefined
    const definition = business('zod', () => {
      vocabulary = events({ Order: { created: Order } })
      on(vocabulary.Order.created, () => {})
    })
    expect(vocabulary?.Order.created).toBe($.Order.created)
    expect(Object.keys(definition.events)).toEqual(['Order.created'])
    expect(definition.handlers[0]?.patterns).toEqual(['Order.created'])
  })

  it('gives the runtime what it needs to check payloads at run time', () => {
    const definition = business('checked', () => {
      events({ Order: { created: Order } })
    })
    const schema = definition.events['Order.created']
    if (!schema) throw new Error('registered')
    expect(validate(schema, { id: 'o1', total: 10 }, 'Order.created payload')).toEqual({ id: 'o1', total: 10 })
    let error: unknown
    try {
      validate(schema, { id: 'o1', total: '10' }, 'Order.created payload')
    } catch (e) {
      error = e
    }
    expect(isValidationError(error)).toBe(true)
    expect((error as Error).message).toBe('Order.created payload: total must be a number, got "10"')
  })

  it('rejects non-schemas and a second, different schema for one event', () => {
    const caught = (fn: () => void) => {
      try {
        business('bad', fn)
      } catch (e) {
        expect(isDeclarationError(e)).toBe(true)
        return (e as Error).message
      }
    }
    expect(caught(() => events({ Order: { created: { id: 'string' } as never } }))).toBe(
      'events(): Order.created must be a zod schema, got object',
    )
    expect(
      caught(() => {
        events({ Order: { created: Order } })
        events({ Order: { created: z.object({ id: z.number() }) } })
      }),
    ).toBe('events(): "Order.created" already has a schema in business "bad"')
  })
})
