/**
 * What a document can hold: JSON. A value is copied as JSON would store it (Dates become ISO
 * strings, `toJSON` is honoured, `undefined` fields are left out), but where JSON would change
 * it without a word — `NaN` and `Infinity` to `null`, `undefined` in a list to `null`, a
 * `__proto__` key lost — or fail obscurely (a BigInt, a cycle), it is an error naming the field.
 *
 * @example
 * storable({ at: new Date(0), n: 1 }, 'create(Order)') // { at: '1970-01-01T00:00:00.000Z', n: 1 }
 * storable({ n: Number.NaN }, 'create(Order)')          // DbError: create(Order): n must be a finite number, got NaN
 */
import { DbError } from '../errors.ts'

export function storable(value: unknown, place: string, path = ''): unknown {
  return copy(value, place, path, new Set())
}

function copy(value: unknown, place: string, path: string, seen: Set<object>): unknown {
  const at = path || 'the value'
  const refuse = (what: string): never => {
    throw new DbError(`${place}: ${at} ${what}`)
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : refuse(`must be a finite number, got ${value}`)
  if (value === undefined) return undefined
  if (typeof value !== 'object') return refuse(`cannot be stored as JSON, got a ${typeof value}`)
  const json = (value as { toJSON?: unknown }).toJSON
  if (typeof json === 'function') return copy(json.call(value), place, path, seen)
  if (seen.has(value)) refuse('refers back to itself (a cycle), which JSON cannot store')
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      return value.map((item, i) => {
        if (item === undefined) throw new DbError(`${place}: ${path}[${i}] is undefined, which a JSON list cannot hold`)
        return copy(item, place, `${path}[${i}]`, seen)
      })
    }
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      if (key === '__proto__') refuse('has a field named __proto__, which cannot be stored')
      const copied = copy(item, place, path ? `${path}.${key}` : key, seen)
      if (copied !== undefined) out[key] = copied
    }
    return out
  } finally {
    seen.delete(value)
  }
}
