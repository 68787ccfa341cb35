/**
 * Structured logs: one JSON object per line with time, level, message and the bound fields
 * (run id, correlation id, service, operation...). Lines below the level (`LOG_LEVEL`, default
 * `info`) are dropped. Before anything is written, the values of personal and secret fields
 * (email, password, token, api key, card...; add your own with `redact`) are replaced, and
 * anything that looks like a payment card number, in any string, is masked to its last four.
 *
 * @example
 * const log = jsonLogger({ level: 'debug', redact: ['iban'] }).child({ run: 'r1' })
 * log.info('charged', { email: 'a@b.c', note: 'card 4242 4242 4242 4242' })
 * // {"email":"[redacted]","note":"card **** 4242",...}
 */
import type { LogFields, Logger } from '@bac/sdk'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Field names whose values are never written. */
export const REDACTED_FIELDS: readonly string[] = [
  'email',
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  'card',
  'cardNumber',
  'cvv',
  'cvc',
  'ssn',
  'phone',
]

/** 13–19 digits, optionally grouped by spaces or dashes: a card number if it passes Luhn. */
const CARD_LIKE = /\b\d(?:[ -]?\d){12,18}\b/g

export interface JsonLoggerOptions {
  readonly level?: LogLevel
  /** Where lines go (default: stderr). */
  readonly write?: (line: string) => void
  readonly now?: () => number
  /** More field names (or patterns) to redact, on top of `REDACTED_FIELDS`. */
  readonly redact?: readonly (string | RegExp)[]
}

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

export function maskCardNumbers(text: string): string {
  return text.replace(CARD_LIKE, (match) => {
    const digits = match.replace(/\D/g, '')
    return luhn(digits) ? `**** ${digits.slice(-4)}` : match
  })
}

/** The words of a field name: `userEmail`, `user_email`, `user-email` → user, email. */
const words = (field: string) =>
  field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)

/**
 * A predicate over field names: a name is secret when a run of its words spells a listed one
 * (`userEmail`, `api_key`, `stripeToken` — but not `tokens` or `discard`).
 */
export function redactor(extra: readonly (string | RegExp)[] = []): (field: string) => boolean {
  const names = new Set(
    [...REDACTED_FIELDS, ...extra.filter((e): e is string => typeof e === 'string')].map((n) => words(n).join('')),
  )
  const patterns = extra.filter((e): e is RegExp => e instanceof RegExp)
  return (field) => {
    const parts = words(field)
    for (let from = 0; from < parts.length; from++) {
      for (let to = from + 1; to <= parts.length; to++) if (names.has(parts.slice(from, to).join(''))) return true
    }
    return patterns.some((pattern) => pattern.test(field))
  }
}

const isDefault = redactor()

export function redact(value: unknown, secret: (field: string) => boolean = isDefault, depth = 0): unknown {
  if (typeof value === 'string') return maskCardNumbers(value)
  if (depth > 6 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => redact(item, secret, depth + 1))
  if (value instanceof Error) {
    return {
      name: value.name,
      message: maskCardNumbers(value.message),
      ...(value.stack ? { stack: maskCardNumbers(value.stack) } : {}),
    }
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, secret(key) ? '[redacted]' : redact(v, secret, depth + 1)]),
  )
}

export function levelFromEnv(value = process.env.LOG_LEVEL): LogLevel {
  return value && value in RANK ? (value as LogLevel) : 'info'
}

export function jsonLogger(options: JsonLoggerOptions = {}, bound: LogFields = {}): Logger {
  const level = options.level ?? levelFromEnv()
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const now = options.now ?? Date.now
  const secret = options.redact ? redactor(options.redact) : isDefault
  const emit =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: LogFields = {}) => {
      if (RANK[at] < RANK[level]) return
      write(
        JSON.stringify({
          time: new Date(now()).toISOString(),
          level: at,
          message: maskCardNumbers(message),
          ...(redact({ ...bound, ...fields }, secret) as object),
        }),
      )
    }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => jsonLogger(options, { ...bound, ...fields }),
  }
}
