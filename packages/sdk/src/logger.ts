/**
 * The structured logger a run gets as `ctx.log` (and the ambient `log`). The runtime writes
 * JSON lines with the run id, correlation id, service and operation, and redacts configured
 * fields before anything is written.
 *
 * @example
 * log.info('reserved stock', { sku, quantity })
 */
import { currentContext } from './context.ts'

export type LogFields = Readonly<Record<string, unknown>>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger
}

type Level = 'debug' | 'info' | 'warn' | 'error'

/**
 * Outside a runtime there is no log sink to forward to; rather than drop the line, it goes to
 * stderr as the same JSON shape, so `node script.ts` and unit tests still show it.
 */
function fallback(level: Level, message: string, fields: LogFields): void {
  console.error(JSON.stringify({ level, message, ...fields, time: new Date().toISOString() }))
}

function forwarding(bound: LogFields): Logger {
  const write =
    (level: Level) =>
    (message: string, fields: LogFields = {}) => {
      const context = currentContext()
      if (!context) return fallback(level, message, { ...bound, ...fields })
      const target = Object.keys(bound).length > 0 ? context.log.child(bound) : context.log
      target[level](message, fields)
    }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => forwarding({ ...bound, ...fields }),
  }
}

/** The ambient logger: the current run's `ctx.log`, or JSON on stderr outside a runtime. */
export const log: Logger = forwarding({})
