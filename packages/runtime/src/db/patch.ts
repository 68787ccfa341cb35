/**
 * An update's patch applied to a document's fields: plain fields are set (a shallow merge),
 * and the operators `$set`, `$unset`, `$inc` and `$push` change single fields, with dotted
 * paths. The result is computed inside the write's transaction, so `$inc` never loses a count.
 *
 * @example
 * applyPatch({ stock: 3, tags: ['a'] }, { $inc: { stock: -1 }, $push: { tags: 'b' }, name: 'Lamp' }, 'update')
 * // { stock: 2, tags: ['a', 'b'], name: 'Lamp' }
 */
import { DbError } from '../errors.ts'
import { parseField } from './filter.ts'

type Data = Readonly<Record<string, unknown>>

const OPERATORS = ['$set', '$unset', '$inc', '$push']

function setPath(target: Record<string, unknown>, path: readonly string[], change: (old: unknown) => unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    node[key] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Data) } : {}
    node = node[key] as Record<string, unknown>
  }
  const last = path.at(-1) as string
  const value = change(node[last])
  if (value === undefined) delete node[last]
  else node[last] = value
}

export function applyPatch(current: Data, patch: Data, place: string): Record<string, unknown> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new DbError(`${place}: a patch is an object of fields, got ${JSON.stringify(patch)}`)
  }
  const out: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith('$')) {
      out[key] = value === undefined ? undefined : JSON.parse(JSON.stringify(value))
      if (value === undefined) delete out[key]
      continue
    }
    if (!OPERATORS.includes(key))
      throw new DbError(`${place}: ${key} is not an update operator; use ${OPERATORS.join(', ')}`)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DbError(
        `${place}: ${key} takes an object of fields, such as { ${key}: { stock: 3 } }, got ${JSON.stringify(value) ?? 'undefined'}`,
      )
    }
    for (const [field, operand] of Object.entries(value as Data)) {
      const parsed = parseField(field)
      if (parsed.kind !== 'path') throw new DbError(`${place}: ${field} cannot be changed`)
      setPath(out, parsed.path, (old) => {
        if (key === '$set') return JSON.parse(JSON.stringify(operand))
        if (key === '$unset') return undefined
        if (key === '$inc') {
          if (typeof operand !== 'number' || (old !== undefined && typeof old !== 'number')) {
            throw new DbError(`${place}: $inc needs numbers, got ${JSON.stringify(old)} + ${JSON.stringify(operand)}`)
          }
          return ((old as number | undefined) ?? 0) + operand
        }
        if (old !== undefined && !Array.isArray(old)) throw new DbError(`${place}: $push needs a list at ${field}`)
        return [...((old as unknown[] | undefined) ?? []), operand]
      })
    }
  }
  return out
}
