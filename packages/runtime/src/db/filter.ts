/**
 * Queries as users write them — equality, Mongo-style operators (`$gt $gte $lt $lte $ne $in
 * $nin $exists $regex`, `$and $or`), the seeds' suffix form (`'quantityAvailable:gte': 5`),
 * nested paths (`'customer.$id'`) — parsed into a small tree the store compiles to SQL. Field
 * names are checked here (a path is letters, digits, `_`, `-` and `$` per part), so the store
 * can write them into SQL; values are never written into SQL, only bound.
 *
 * @example
 * parseFilter({ price: { $lt: 50 }, 'stock:gte': 1, $or: [{ tag: 'new' }, { tag: 'sale' }] })
 */
import { ValidationError } from '@bac/sdk'

/** A document field: a JSON path, or one of the columns every document has. */
export type Field =
  | { readonly kind: 'path'; readonly path: readonly string[] }
  | { readonly kind: 'id' | 'createdAt' | 'updatedAt' }

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>='

export type Scalar = string | number | boolean | null

export type Filter =
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly op: 'compare'; readonly field: Field; readonly compare: Comparison; readonly value: Scalar }
  | { readonly op: 'in'; readonly field: Field; readonly values: readonly Scalar[]; readonly negate: boolean }
  | { readonly op: 'exists'; readonly field: Field; readonly exists: boolean }
  | { readonly op: 'regex'; readonly field: Field; readonly pattern: string; readonly flags: string }

/** A part of a field path: letters (any script), digits, `_`, `-` and `$` — safe to write into SQL. */
const PART = /^[\p{L}\p{N}_$-]+$/u
const OPERATORS: Readonly<Record<string, Comparison>> = {
  $eq: '=',
  $ne: '!=',
  $lt: '<',
  $lte: '<=',
  $gt: '>',
  $gte: '>=',
}
const SUFFIXES: Readonly<Record<string, string>> = {
  eq: '$eq',
  ne: '$ne',
  lt: '$lt',
  lte: '$lte',
  gt: '$gt',
  gte: '$gte',
  in: '$in',
  nin: '$nin',
  exists: '$exists',
  regex: '$regex',
}
const KNOWN = [...Object.keys(OPERATORS), '$in', '$nin', '$exists', '$regex', '$options']

const fail = (field: string, message: string, received: unknown): never => {
  throw new ValidationError(`query: ${field} ${message}, got ${JSON.stringify(received) ?? String(received)}`, [
    { path: field, message, received: JSON.stringify(received) ?? String(received) },
  ])
}

/** A dotted name as a field, or an error naming it when a part is not a plain name. */
export function parseField(name: string): Field {
  if (name === '$id') return { kind: 'id' }
  if (name === '$createdAt') return { kind: 'createdAt' }
  if (name === '$updatedAt') return { kind: 'updatedAt' }
  const path = name.split('.')
  if (path.length > 16 || path.some((part) => !PART.test(part))) {
    fail('field name', 'must be dotted names of letters, digits, _, - and $ (e.g. customer.$id)', name)
  }
  return { kind: 'path', path }
}

/** A value to compare with: Dates become ISO strings (as they are stored); objects are refused. */
export function scalar(field: string, value: unknown): Scalar {
  if (value instanceof Date) return value.toISOString()
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  return fail(field, 'can be compared with a string, number, boolean, null or Date', value)
}

/** Values for `$createdAt`/`$updatedAt` are times: epoch ms from a Date, ISO string or number. */
function timeValue(field: string, value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value
  if (typeof ms !== 'number' || !Number.isFinite(ms)) fail(field, 'must be compared with a date', value)
  return ms as number
}

function condition(name: string, spec: unknown): Filter[] {
  const field = parseField(name)
  const value = (raw: unknown) =>
    field.kind === 'createdAt' || field.kind === 'updatedAt' ? timeValue(name, raw) : scalar(name, raw)
  const isOperators =
    typeof spec === 'object' &&
    spec !== null &&
    !Array.isArray(spec) &&
    !(spec instanceof Date) &&
    Object.keys(spec).some((k) => k.startsWith('$'))
  if (!isOperators) {
    if (Array.isArray(spec)) return [{ op: 'in', field, values: spec.map(value), negate: false }]
    return [{ op: 'compare', field, compare: '=', value: value(spec) }]
  }
  const operators = spec as Record<string, unknown>
  const out: Filter[] = []
  for (const [operator, operand] of Object.entries(operators)) {
    if (!KNOWN.includes(operator)) fail(name, `has an unknown operator; use one of ${KNOWN.join(' ')}`, operator)
    const compare = OPERATORS[operator]
    if (compare) out.push({ op: 'compare', field, compare, value: value(operand) })
    else if (operator === '$in' || operator === '$nin') {
      if (!Array.isArray(operand)) fail(name, `${operator} needs a list`, operand)
      out.push({ op: 'in', field, values: (operand as unknown[]).map(value), negate: operator === '$nin' })
    } else if (operator === '$exists') {
      if (typeof operand !== 'boolean') fail(name, '$exists needs true or false', operand)
      out.push({ op: 'exists', field, exists: operand as boolean })
    } else if (operator === '$regex') {
      const source = operand instanceof RegExp ? operand.source : operand
      const flags = operand instanceof RegExp ? operand.flags : String(operators.$options ?? '')
      if (typeof source !== 'string') fail(name, '$regex needs a string or RegExp', operand)
      try {
        new RegExp(source as string, flags)
      } catch {
        fail(name, '$regex is not a valid regular expression', operand)
      }
      out.push({ op: 'regex', field, pattern: source as string, flags: flags.replace(/[^imsu]/g, '') })
    }
  }
  return out
}

/** Parse a query; `$sort`, `$limit`, `$skip`, `$select` keys are options, not conditions (see `splitQuery`). */
export function parseFilter(query: Readonly<Record<string, unknown>> = {}): Filter {
  if (typeof query !== 'object' || query === null || Array.isArray(query))
    fail('query', 'must be an object of conditions', query)
  const filters: Filter[] = []
  for (const [key, spec] of Object.entries(query)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(spec) || spec.length === 0) fail(key, 'needs a non-empty list of queries', spec)
      filters.push({ op: key === '$and' ? 'and' : 'or', filters: (spec as Record<string, unknown>[]).map(parseFilter) })
      continue
    }
    const suffixed = /^(.+):([a-z]+)$/.exec(key)
    if (suffixed?.[1] && suffixed[2]) {
      const operator = SUFFIXES[suffixed[2]]
      if (!operator) fail(key, `has an unknown suffix; use one of ${Object.keys(SUFFIXES).join(', ')}`, suffixed[2])
      filters.push(...condition(suffixed[1], { [operator as string]: spec }))
      continue
    }
    filters.push(...condition(key, spec))
  }
  return { op: 'and', filters }
}

export interface QueryOptions {
  readonly sort: readonly { readonly field: Field; readonly direction: 'asc' | 'desc' }[]
  readonly limit?: number
  readonly skip?: number
  readonly select?: readonly string[]
}

const OPTION_KEYS = ['$sort', '$limit', '$skip', '$select']

/**
 * A query and its options, from any of the forms in use: `{ price: {...}, $sort, $limit }`,
 * `(query, { sort, limit, skip, select })`, and the seeds' `{ where, orderBy, limit }`.
 */
export function splitQuery(
  query: Readonly<Record<string, unknown>> = {},
  options: Readonly<Record<string, unknown>> = {},
): { filter: Filter; options: QueryOptions } {
  const { where, orderBy, ...rest } = query as { where?: Record<string, unknown>; orderBy?: unknown }
  const conditions = Object.fromEntries(Object.entries(where ?? rest).filter(([k]) => !OPTION_KEYS.includes(k)))
  const pick = (name: string) =>
    options[name] ??
    (query as Record<string, unknown>)[`$${name}`] ??
    (name === 'sort' ? (options.orderBy ?? orderBy) : undefined)
  const limit = pick('limit')
  const skip = pick('skip')
  const select = pick('select')
  if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) >= 0))
    fail('limit', 'must be a whole number', limit)
  if (skip !== undefined && !(Number.isInteger(skip) && (skip as number) >= 0))
    fail('skip', 'must be a whole number', skip)
  if (select !== undefined && !(Array.isArray(select) && select.every((s) => typeof s === 'string')))
    fail('select', 'must be a list of field names', select)
  return {
    filter: parseFilter(conditions),
    options: {
      sort: parseSort(pick('sort')),
      ...(limit === undefined ? {} : { limit: limit as number }),
      ...(skip === undefined ? {} : { skip: skip as number }),
      ...(select === undefined ? {} : { select: select as string[] }),
    },
  }
}

export function parseSort(sort: unknown): QueryOptions['sort'] {
  if (sort === undefined) return []
  if (typeof sort !== 'object' || sort === null || Array.isArray(sort))
    fail('sort', "must be { field: 1 | -1 | 'asc' | 'desc' }", sort)
  return Object.entries(sort as Record<string, unknown>).map(([name, direction]) => {
    if (![1, -1, 'asc', 'desc'].includes(direction as string))
      fail(`sort ${name}`, "must be 1, -1, 'asc' or 'desc'", direction)
    return { field: parseField(name), direction: direction === -1 || direction === 'desc' ? 'desc' : 'asc' }
  })
}
