/**
 * Structured logs: one JSON object per line with time, level, message and the bound fields
 * (run id, correlation id, service, operation...). Lines below the level (`LOG_LEVEL`, default
 * `info`) are dropped. Before anything is written, the values of personal and secret fields
 * (email, password, token, api key, card, phone...; add your own with `redact`) are replaced,
 * and card numbers, email addresses, bearer tokens and API keys inside any text are masked —
 * error messages included.
 *
 * @example
 * const log = jsonLogger({ level: 'debug', redact: ['iban'] }).child({ run: 'r1' })
 * log.info('charged', { email: 'a@b.c', note: 'card 4242 4242 4242 4242' })
 * // {"email":"[redacted]","note":"card **** 4242",...}
 */
import type { LogFields, Logger } from '@bac/sdk'
import { scrubText, secretFields } from '@bac/sdk/internal'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }
/** Deeper than this, a value is not walked (nor written). */
const MAX_DEPTH = 8

export interface JsonLoggerOptions {
  readonly level?: LogLevel
  /** Where lines go (default: stderr). */
  readonly write?: (line: string) => void
  readonly now?: () => number
  /** More field names (or patterns) to redact, on top of the sdk's `SECRET_FIELDS`. */
  readonly redact?: readonly (string | RegExp)[]
}

const defaultFields = secretFields()

/** A value as it may be written: secret fields replaced, text scrubbed, odd objects made plain. */
export function redact(value: unknown, secret: ReturnType<typeof secretFields> = defaultFields, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return '[truncated]'
  if (Array.isArray(value)) return value.map((item) => redact(item, secret, depth + 1))
  if (value instanceof Error) {
    return {
      name: value.name,
      message: scrubText(value.message),
      ...(value.stack ? { stack: scrubText(value.stack) } : {}),
    }
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (value instanceof URL) return scrubText(value.href)
  const entries =
    value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(value)
  return Object.fromEntries(
    entries.map(([key, v]) => {
      const match = secret(key)
      const hidden = match === 'exact' || (match === 'plural' && typeof v !== 'number' && typeof v !== 'boolean')
      return [key, hidden ? '[redacted]' : redact(v, secret, depth + 1)]
    }),
  )
}

export function levelFromEnv(value = process.env.LOG_LEVEL): LogLevel {
  return value && value in RANK ? (value as LogLevel) : 'info'
}

export function jsonLogger(options: JsonLoggerOptions = {}, bound: LogFields = {}): Logger {
  const level = options.level ?? levelFromEnv()
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const now = options.now ?? Date.now
  const secret = options.redact ? secretFields(options.redact) : defaultFields
  const emit =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: LogFields = {}) => {
      if (RANK[at] < RANK[level]) return
      write(
        JSON.stringify({
          time: new Date(now()).toISOString(),
          level: at,
          message: scrubText(message),
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
