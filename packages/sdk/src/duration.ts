/**
 * Durations as users write them: milliseconds, or `'500ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`.
 *
 * @example
 * toMilliseconds('5m') // 300000
 */
import { DeclarationError } from './errors.ts'
import type { Duration } from './types.ts'

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const FORM = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/** Milliseconds of a duration; `place` names the option in the error for a bad one. */
export function toMilliseconds(duration: Duration | string, place = 'duration'): number {
  if (typeof duration === 'number') {
    if (Number.isFinite(duration) && duration >= 0) return duration
  } else {
    const match = FORM.exec(duration.trim())
    if (match?.[1] && match[2]) return Number(match[1]) * (UNITS[match[2]] ?? 1)
  }
  throw new DeclarationError(
    `${place} must be milliseconds or a duration like '30s', '5m', '2h', got ${JSON.stringify(duration)}`,
  )
}
