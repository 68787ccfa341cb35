/**
 * What must never be written where people read it — logs, error messages, traces: values of
 * secret and personal fields (by the words of the field's name: `api_key`, `passwords`,
 * `userEmail`), and, inside any text, card numbers, email addresses, bearer tokens, API keys
 * and `key=value` secrets. Shared by validation messages (secrets) and the runtime's logs (both).
 *
 * @example
 * isSecretField('customerEmail') // true
 * scrubText('card 4242 4242 4242 4242 for ann@example.com') // 'card **** 4242 for [email]'
 */

/** Credentials and payment data: never written, not even in a validation message. */
export const SECRET_FIELDS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'accessKey',
  'privateKey',
  'authorization',
  'cookie',
  'card',
  'cardNumber',
  'cvv',
  'cvc',
  'iban',
  'ssn',
]

/** Personal data: kept out of logs (a validation message may show a malformed one, to fix it). */
export const PERSONAL_FIELDS: readonly string[] = ['email', 'phone']

/** The words of a field name: `userEmail`, `user_email`, `user-email` → user, email. */
const words = (field: string) =>
  field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)

/**
 * A predicate over field names: secret when a run of its words spells a listed name, or its
 * plural (`passwords`); `plural` says whether it matched only as a plural, which counts only for
 * values that are not numbers (a `tokens` count is not a token).
 */
export function secretFields(
  extra: readonly (string | RegExp)[] = [],
  base: readonly string[] = [...SECRET_FIELDS, ...PERSONAL_FIELDS],
): (field: string) => false | 'exact' | 'plural' {
  const names = new Set(
    [...base, ...extra.filter((e): e is string => typeof e === 'string')].map((n) => words(n).join('')),
  )
  const patterns = extra.filter((e): e is RegExp => e instanceof RegExp)
  return (field) => {
    const parts = words(field)
    let plural = false
    for (let from = 0; from < parts.length; from++) {
      for (let to = from + 1; to <= parts.length; to++) {
        const run = parts.slice(from, to).join('')
        if (names.has(run)) return 'exact'
        if (run.endsWith('s') && names.has(run.slice(0, -1))) plural = true
      }
    }
    if (patterns.some((pattern) => pattern.test(field))) return 'exact'
    return plural ? 'plural' : false
  }
}

const credentials = secretFields([], SECRET_FIELDS)

/** Whether a field holds a credential or payment data (`password`, `apiKey`, `cardNumber`...). */
export function isSecretField(field: string): boolean {
  return credentials(field) !== false
}

/** 14–19 digits, optionally grouped by spaces or dashes: a card number if it passes Luhn. */
const CARD_LIKE = /\b\d(?:[ -]?\d){13,18}\b/g
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi
const API_KEY = /\b(sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_])?[A-Za-z0-9_-]{12,}/g
const KEY_VALUE = /\b(api[_-]?key|access[_-]?token|token|password|secret|signature|sig)=([^&\s"',;]+)/gi

function luhn(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

export function scrubText(text: string): string {
  return text
    .replace(CARD_LIKE, (match) => {
      const digits = match.replace(/\D/g, '')
      return luhn(digits) ? `**** ${digits.slice(-4)}` : match
    })
    .replace(EMAIL, '[email]')
    .replace(BEARER, '$1 [redacted]')
    .replace(API_KEY, '$1-[redacted]')
    .replace(KEY_VALUE, '$1=[redacted]')
}
