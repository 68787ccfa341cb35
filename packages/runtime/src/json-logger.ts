/**
 * Structured logs: one JSON object per line with time, level, message and the bound fields
 * (run id, handler, ...). Lines below the level (`LOG_LEVEL`, default `info`) are dropped, and
 * values of secret-looking fields (password, token, api key, card...) are redacted before
 * anything is written.
 *
 * @example
 * const log = jsonLogger({ level: 'debug' }).child({ run: 'r1' })
 * log.info('charged', { amount: 10, cardNumber: '4242…' }) // cardNumber: "[redacted]"
 */
import type { LogFields, Logger } from '@bac/sdk'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }
const SECRET = /pass(word)?|secret|token|api[-_]?key|authorization|cookie|card(number)?|cvv|ssn/i

export interface JsonLoggerOptions {
  readonly level?: LogLevel
  /** Where lines go (default: stderr). */
  readonly write?: (line: string) => void
  readonly now?: () => number
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, SECRET.test(key) ? '[redacted]' : redact(v, depth + 1)]),
  )
}

export function levelFromEnv(value = process.env.LOG_LEVEL): LogLevel {
  return value && value in RANK ? (value as LogLevel) : 'info'
}

export function jsonLogger(options: JsonLoggerOptions = {}, bound: LogFields = {}): Logger {
  const level = options.level ?? levelFromEnv()
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const now = options.now ?? Date.now
  const emit =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: LogFields = {}) => {
      if (RANK[at] < RANK[level]) return
      write(
        JSON.stringify({
          time: new Date(now()).toISOString(),
          level: at,
          message,
          ...(redact({ ...bound, ...fields }) as object),
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
