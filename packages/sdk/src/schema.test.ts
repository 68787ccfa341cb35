import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isValidationError, type ValidationError } from './errors.ts'
import { toSchema, validate } from './schema.ts'

const failure = (fn: () => unknown): ValidationError => {
  try {
    fn()
  } catch (error) {
    if (isValidationError(error)) return error
    throw error
  }
  throw new Error('expected a ValidationError')
}

describe('schemas', () => {
  it('name the field, what was expected and what was received', () => {
    const schema = z.object({
      total: z.number(),
      customer: z.object({ email: z.email() }),
      items: z.array(z.object({ sku: z.string() })),
    })
    const error = failure(() =>
      validate(schema, { total: '10', customer: { email: 'x' }, items: [{ sku: 1 }] }, 'Order.created payload'),
    )
    expect(error.message).toBe(
      'Order.created payload: total must be a number, got "10"; customer.email must be a valid email, got "x"; items[0].sku must be a string, got 1',
    )
    expect(error.issues).toEqual([
      { path: 'total', message: expect.any(String), expected: 'a number', received: '"10"' },
      { path: 'customer.email', message: expect.any(String), expected: 'a valid email', received: '"x"' },
      { path: 'items[0].sku', message: expect.any(String), expected: 'a string', received: '1' },
    ])
    expect(failure(() => validate(schema, 42, 'Order.created payload')).message).toBe(
      'Order.created payload must be an object, got 42',
    )
  })

  it('never echo secrets back', () => {
    const schema = z.object({ password: z.string().min(12), apiKey: z.string().min(30) })
    const error = failure(() => validate(schema, { password: 'hunter2', apiKey: 'sk-live-123' }, 'register input'))
    expect(error.message).not.toContain('hunter2')
    expect(error.message).not.toContain('sk-live-123')
    expect(error.message).toMatch(/password must be at least 12 characters, got <redacted string>/)
  })

  it('turn the seeds’ field specs into zod, optional unless required', () => {
    const schema = toSchema(
      {
        email: { type: 'string', format: 'email', required: true },
        age: { type: 'integer', min: 0 },
        plan: { type: 'enum', values: ['free', 'pro'], default: 'free' },
        tags: { type: 'array', items: { type: 'string' } },
        address: { type: 'object', properties: { city: { type: 'string', required: true } } },
        born: { type: 'date' },
        seen: { type: 'datetime' },
        site: { type: 'url' },
        id: { type: 'uuid' },
        note: { type: 'string', nullable: true, maxLength: 5 },
        extra: z.boolean().optional(),
      },
      'UserService.register input',
    )
    expect(validate(schema, { email: 'a@b.co' }, 'in')).toEqual({ email: 'a@b.co', plan: 'free' })
    expect(
      validate(
        schema,
        {
          email: 'a@b.co',
          age: 3,
          tags: ['x'],
          address: { city: 'Oslo' },
          born: '2001-02-03',
          seen: new Date(0),
          site: 'https://x.y',
          id: '6f1c2a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a',
          note: null,
          extra: true,
        },
        'in',
      ),
    ).toMatchObject({ age: 3, note: null })
    expect(failure(() => validate(schema, { email: 'a@b.co', age: 1.5 }, 'in')).message).toBe(
      'in: age must be an integer, got 1.5',
    )
    expect(failure(() => validate(schema, { email: 'a@b.co', address: {} }, 'in')).message).toBe(
      'in: address.city must be a string, got nothing',
    )
  })

  it('reject a field spec it cannot read, naming the field', () => {
    expect(() => toSchema({ to: { type: 'strng' } }, 'Email.send input')).toThrow(
      'Email.send input.to: unknown field type "strng"; expected one of string, number',
    )
    expect(() => toSchema({ status: { type: 'enum' } }, 'x')).toThrow(
      "x.status: an enum field needs values: ['a', 'b'], got nothing",
    )
    expect(() => toSchema('string', 'x')).toThrow(/x: expected a zod schema or a map of fields/)
    expect(() => toSchema({ to: 'string' }, 'x')).toThrow(
      /x\.to: expected a field like \{ type: 'string' \} or a zod schema, got "string"/,
    )
  })
})
