import { describe, expect, it } from 'vitest'
import { jsonLogger, maskCardNumbers } from './json-logger.ts'

const capture = (options: Parameters<typeof jsonLogger>[0] = {}) => {
  const lines: Record<string, unknown>[] = []
  const log = jsonLogger({ level: 'debug', now: () => 0, write: (line) => lines.push(JSON.parse(line)), ...options })
  return { log, lines }
}

describe('jsonLogger', () => {
  it('redacts personal and secret fields by the words of their names, at any depth', () => {
    const { log, lines } = capture()
    log.info('signed up', {
      user: { userEmail: 'a@b.c', api_key: 'k', Authorization: 'Bearer x', stripeToken: 't', phoneNumber: '+49' },
      tokens: 12,
      discarded: 3,
      list: [{ password: 'p' }],
    })
    expect(lines[0]).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      message: 'signed up',
      user: {
        userEmail: '[redacted]',
        api_key: '[redacted]',
        Authorization: '[redacted]',
        stripeToken: '[redacted]',
        phoneNumber: '[redacted]',
      },
      tokens: 12,
      discarded: 3,
      list: [{ password: '[redacted]' }],
    })
  })

  it('redacts configured fields too, and bound fields of children', () => {
    const { log, lines } = capture({ redact: ['iban', /^x-/] })
    log.child({ iban: 'DE89 3704', customer: 'c1' }).warn('paid', { 'x-signature': 's', amount: 5 })
    expect(lines[0]).toMatchObject({ iban: '[redacted]', customer: 'c1', 'x-signature': '[redacted]', amount: 5 })
  })

  it('masks card numbers anywhere in strings, but only Luhn-valid ones', () => {
    expect(maskCardNumbers('paid with 4242-4242-4242-4242 and 5555555555554444')).toBe(
      'paid with **** 4242 and **** 4444',
    )
    expect(maskCardNumbers('order 1234567890123 of 12')).toBe('order 1234567890123 of 12')
    const { log, lines } = capture()
    log.error('charge failed for 4000 0000 0000 0002', { error: new Error('card 4000000000000002 declined') })
    expect(JSON.stringify(lines)).not.toMatch(/4000 ?0000 ?0000 ?0002/)
    expect(lines[0]).toMatchObject({
      message: 'charge failed for **** 0002',
      error: { message: 'card **** 0002 declined' },
    })
  })

  it('drops lines below the level', () => {
    const { log, lines } = capture({ level: 'warn' })
    log.info('quiet')
    log.warn('loud')
    expect(lines.map((l) => l.message)).toEqual(['loud'])
  })
})
