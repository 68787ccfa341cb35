/**
 * An update's patch: plain fields are set (a shallow merge; `undefined` removes one), and the
 * operators change single fields, with dotted paths into nested objects:
 *
 * | operator    | does                                                        | on a missing field |
 * | ----------- | ----------------------------------------------------------- | ------------------ |
 * | `$set`      | sets the value                                              | creates it         |
 * | `$unset`    | removes the field                                           | nothing            |
 * | `$inc`      | adds a number                                               | starts from 0      |
 * | `$mul`      | multiplies by a number                                      | 0                  |
 * | `$min/$max` | keeps the smaller/larger of two numbers or two strings      | sets the value     |
 * | `$push`     | appends a value, or each of `{ $each: [...] }`              | a new list         |
 * | `$addToSet` | appends what the list does not hold yet (deep equality)     | a new list         |
 * | `$pull`     | removes elements equal to a value, or to any of `{ $in }`   | nothing            |
 *
 * The patch is parsed before anything is read (`parsePatch`: a bad operator or operand writes
 * nothing), then applied inside the write's transaction to the document as it is under its
 * lock (`applyPatch`), so no concurrent update is lost.
 *
 * @example
 * const ops = parsePatch({ $inc: { stock: -1 }, $push: { tags: 'b' }, name: 'Lamp' }, 'update(Product)')
 * applyPatch({ stock: 3, tags: ['a'] }, ops, 'update(Product)') // { stock: 2, tags: ['a', 'b'], name: 'Lamp' }
 */
import { DbError } from '../errors.ts'
import { parseField } from './filter.ts'
import { storable } from './json-value.ts'

type Data = Readonly<Record<string, unknown>>

const OPERATORS = ['$set', '$unset', '$inc', '$mul', '$min', '$max', '$push', '$addToSet', '$pull'] as const
type Operator = (typeof OPERATORS)[number]

/** One change of a patch: a plain field (`op: 'field'`) or an operator on a path. */
export interface PatchOperation {
  readonly op: Operator | 'field'
  /** As written, for messages. */
  readonly field: string
  readonly path: readonly string[]
  readonly operand: unknown
}

const show = (value: unknown): string =>
  typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))

/** A value as it is stored (JSON): `undefined` stays `undefined`; what JSON cannot hold is an error. */
const stored = (value: unknown, place: string, what: string): unknown => storable(value, place, what)

/** `{ $each: [...] }` as the list it names, or one value as a list of one. */
function each(operand: unknown, op: string, field: string, place: string): unknown[] {
  if (typeof operand !== 'object' || operand === null || !('$each' in operand)) return [operand]
  const list = (operand as { $each: unknown }).$each
  if (!Array.isArray(list) || Object.keys(operand).length !== 1) {
    throw new DbError(
      `${place}: ${op} at ${field} takes { $each: [...] } with a list and nothing else, got ${show(operand)}`,
    )
  }
  return list
}

/** Check a patch and list its changes; nothing is read or written yet. */
export function parsePatch(patch: unknown, place: string): PatchOperation[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new DbError(`${place}: a patch is an object of fields and operators, got ${show(patch)}`)
  }
  const operations: PatchOperation[] = []
  for (const [key, value] of Object.entries(patch)) {
    if (key === '__proto__') throw new DbError(`${place}: __proto__ cannot be a field name`)
    if (!key.startsWith('$')) {
      operations.push({ op: 'field', field: key, path: [key], operand: stored(value, place, key) })
      continue
    }
    if (!OPERATORS.includes(key as Operator)) {
      throw new DbError(`${place}: ${key} is not an update operator; use ${OPERATORS.join(', ')}`)
    }
    const op = key as Operator
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DbError(
        `${place}: ${op} takes an object of fields, such as { ${op}: { stock: 3 } }, got ${show(value) ?? 'undefined'}`,
      )
    }
    if (Object.keys(value).length === 0) {
      throw new DbError(`${place}: ${op} names no field; give it at least one, such as { ${op}: { stock: 3 } }`)
    }
    for (const [field, raw] of Object.entries(value as Data)) {
      const parsed = parseField(field)
      if (parsed.kind !== 'path') throw new DbError(`${place}: ${field} is kept by bac and cannot be changed`)
      if (parsed.path.includes('__proto__')) throw new DbError(`${place}: __proto__ cannot be a field name`)
      operations.push({ op, field, path: parsed.path, operand: operandOf(op, field, raw, place) })
    }
  }
  if (operations.length === 0) throw new DbError(`${place}: the patch changes nothing; give it a field or an operator`)
  // Like MongoDB: two changes to one field, or to a field and a field inside it, are ambiguous.
  for (const [i, a] of operations.entries()) {
    for (const b of operations.slice(i + 1)) {
      const n = Math.min(a.path.length, b.path.length)
      if (a.path.slice(0, n).join('.') === b.path.slice(0, n).join('.')) {
        throw new DbError(
          `${place}: ${a.field} (${a.op === 'field' ? 'set' : a.op}) and ${b.field} (${b.op === 'field' ? 'set' : b.op}) change the same field; change it once`,
        )
      }
    }
  }
  return operations
}

function operandOf(op: Operator, field: string, raw: unknown, place: string): unknown {
  const what = `${op} at ${field}`
  switch (op) {
    case '$set':
      return stored(raw, place, what)
    case '$unset':
      return undefined
    case '$inc':
    case '$mul':
      if (typeof raw !== 'number' || !Number.isFinite(raw))
        throw new DbError(`${place}: ${what} needs a number, got ${show(raw)}`)
      return raw
    case '$min':
    case '$max': {
      const value = raw instanceof Date ? raw.toISOString() : raw
      if (!(typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))))
        throw new DbError(`${place}: ${what} needs a number, a string or a Date, got ${show(raw)}`)
      return value
    }
    case '$push':
    case '$addToSet':
      return each(raw, op, field, place).map((v) => stored(v, place, what))
    case '$pull': {
      if (typeof raw === 'object' && raw !== null && '$in' in raw) {
        const list = (raw as { $in: unknown }).$in
        if (!Array.isArray(list) || Object.keys(raw).length !== 1)
          throw new DbError(`${place}: ${what} takes a value or { $in: [...] }, got ${show(raw)}`)
        return list.map((v) => stored(v, place, what))
      }
      return [stored(raw, place, what)]
    }
  }
}

/** A value with its keys in order, so equal objects compare equal as text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'undefined'
}

/** A field of a stored object — its own, never one inherited from `Object.prototype` (`constructor`). */
const own = (node: unknown, key: string): unknown =>
  typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Data)[key] : undefined

/** Change the value at `path`; objects on the way are copied (and made, unless nothing is set). */
function setPath(
  target: Record<string, unknown>,
  path: readonly string[],
  change: (old: unknown) => unknown,
  where: string,
): void {
  let node: unknown = target
  for (const [i, key] of path.slice(0, -1).entries()) {
    node = own(node, key)
    if (node !== undefined && (typeof node !== 'object' || node === null || Array.isArray(node))) {
      throw new DbError(`${where} needs an object at ${path.slice(0, i + 1).join('.')}, but it is ${show(node)}`)
    }
  }
  const last = path.at(-1) as string
  const value = change(own(node, last))
  if (value === undefined && node === undefined) return
  let copy = target
  for (const key of path.slice(0, -1)) {
    copy[key] = { ...((own(copy, key) as Data | undefined) ?? {}) }
    copy = copy[key] as Record<string, unknown>
  }
  if (value === undefined) delete copy[last]
  else copy[last] = value
}

/** The document's fields after the patch: a new object (`current` is left as it was). */
export function applyPatch(
  current: Data,
  operations: readonly PatchOperation[],
  place: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current }
  for (const { op, field, path, operand } of operations) {
    if (op === 'field') {
      if (operand === undefined) delete out[field]
      else out[field] = operand
      continue
    }
    const where = `${place}: ${op} at ${field}`
    setPath(out, path, (old) => changed(op, old, operand, where, field), where)
  }
  return out
}

function changed(op: Operator, old: unknown, operand: unknown, where: string, field: string): unknown {
  const wrongType = (expected: string): never => {
    throw new DbError(`${where} needs ${expected} there, but ${field} is ${show(old)}`)
  }
  switch (op) {
    case '$set':
    case '$unset':
      return operand
    case '$inc':
    case '$mul': {
      if (old !== undefined && old !== null && typeof old !== 'number') wrongType('a number')
      const before = (old as number | null) ?? 0
      const after = op === '$inc' ? before + (operand as number) : before * (operand as number)
      if (!Number.isFinite(after)) throw new DbError(`${where} would make ${field} ${after}, which cannot be stored`)
      return after
    }
    case '$min':
    case '$max': {
      if (old === undefined || old === null) return operand
      if (typeof old !== typeof operand) wrongType(`a ${typeof operand} (to compare with ${show(operand)})`)
      const smaller = (old as number | string) < (operand as number | string)
      return (op === '$min') === smaller ? old : operand
    }
    case '$push':
    case '$addToSet': {
      if (old !== undefined && old !== null && !Array.isArray(old)) wrongType('a list')
      const list = [...((old as unknown[] | null) ?? [])]
      if (op === '$push') return [...list, ...(operand as unknown[])]
      const held = new Set(list.map(canonical))
      for (const value of operand as unknown[]) {
        const key = canonical(value)
        if (!held.has(key)) {
          held.add(key)
          list.push(value)
        }
      }
      return list
    }
    case '$pull': {
      if (old === undefined || old === null) return old
      if (!Array.isArray(old)) wrongType('a list')
      const gone = new Set((operand as unknown[]).map(canonical))
      return (old as unknown[]).filter((value) => !gone.has(canonical(value)))
    }
  }
}
