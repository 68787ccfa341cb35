import { scrubText } from '@bac/sdk'
import { describe, expect, it } from 'vitest'
import { jsonLogger } from './json-logger.ts'

const capture = (options: Parameters<typeof jsonLogger>[0] = {}) => {
  const lines: Record<string, unknown>[] = []
  const log = jsonLogger({ level: 'debug', now: () => 0, write: (line) => lines.push(JSON.parse(line)), ...options })
  return { log, lines }
}

describe('jsonLogger', () => {
  it('redacts personal and secret fields by the words of their names, plurals too', () => {
    const { log, lines } = capture()
    log.info('signed up', {
      user: { userEmail: 'a@b.c', api_key: 'k', Authorization: 'Bearer x', stripeToken: 't', phoneNumber: '+49' },
      emails: ['a@b.c'],
      passwords: ['p'],
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
      emails: '[redacted]',
      passwords: '[redacted]',
      tokens: 12,
      discarded: 3,
      list: [{ password: '[redacted]' }],
    })
  })

  it('writes nothing below its depth limit, rather than anything unredacted', () => {
    const { log, lines } = capture()
    log.info('deep', { a: { b: { c: { d: { e: { f: { g: { h: { password: 'hunter2' } } } } } } } } })
    expect(JSON.stringify(lines)).not.toContain('hunter2')
    expect(JSON.stringify(lines)).toContain('[truncated]')
  })

  it('redacts configured fields too, and bound fields of children', () => {
    const { log, lines } = capture({ redact: ['iban', /^x-/] })
    log.child({ accountIban: 'DE89 3704', customer: 'c1' }).warn('paid', { 'x-signature': 's', amount: 5 })
    expect(lines[0]).toMatchObject({
      accountIban: '[redacted]',
      customer: 'c1',
      'x-signature': '[redacted]',
      amount: 5,
    })
  })

  it('scrubs card numbers, emails, bearer tokens and keys inside any text, error messages included', () => {
    const { log, lines } = capture()
    log.error('charge failed for 4000 0000 0000 0002 (ann@example.com)', {
      error: new Error('no mailbox for ann.smith@example.co.uk; called https://api.x.io/v1?api_key=abc123&q=1'),
      header: 'Bearer eyJhbGciOiJIUzI1NiJ9.abc',
      note: 'key sk-proj-abcdefghijklmnop1234',
      when: new Date(0),
    })
    const text = JSON.stringify(lines)
    for (const secret of [
      '4000 0000 0000 0002',
      'ann@example.com',
      'ann.smith@example.co.uk',
      'abc123',
      'eyJhbGciOiJIUzI1NiJ9',
      'abcdefghijklmnop1234',
    ]) {
      expect(text).not.toContain(secret)
    }
    expect(lines[0]).toMatchObject({
      message: 'charge failed for **** 0002 ([email])',
      error: { message: 'no mailbox for [email]; called https://api.x.io/v1?api_key=[redacted]&q=1' },
      header: 'Bearer [redacted]',
      when: '1970-01-01T00:00:00.000Z',
    })
  })

  it('leaves numbers that only look like card numbers alone', () => {
    expect(scrubText('paid with 4242-4242-4242-4242 and 5555555555554444')).toBe('paid with **** 4242 and **** 4444')
    expect(scrubText('at 1800000000000, order 12345678901234 of 12')).toBe(
      'at 1800000000000, order 12345678901234 of 12',
    )
  })

  it('drops lines below the level', () => {
    const { log, lines } = capture({ level: 'warn' })
    log.info('quiet')
    log.warn('loud')
    expect(lines.map((l) => l.message)).toEqual(['loud'])
  })
})
