/**
 * Schemas of payloads and operation contracts. A schema is a zod schema; the seeds' field
 * specs (`{ to: { type: 'string', format: 'email', required: true } }`) and plain shapes of zod
 * types (`{ to: z.string() }`) are turned into one. `validate` checks a value and throws a
 * `ValidationError` that names each field, what was expected and what was received.
 *
 * @example
 * validate(toSchema({ total: { type: 'number', required: true } }, 'Order'), { total: '10' }, 'Order.created payload')
 * // ValidationError: Order.created payload: total must be a number, got "10"
 */
import { z } from 'zod'
import { DeclarationError, ValidationError, type ValidationIssue } from './errors.ts'
import { isSecretField } from './secrets.ts'

/** A zod schema (any copy of zod 4: detected by shape, not by class). */
export type Schema<T = unknown> = z.ZodType<T>

export type FieldType =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'date-time'
  | 'enum'
  | 'array'
  | 'object'
  | 'email'
  | 'url'
  | 'uuid'
  | 'any'

/** A field as the seeds write it. Fields are optional unless `required: true`. */
export interface FieldSpec {
  readonly type: FieldType
  readonly format?: 'email' | 'url' | 'uri' | 'uuid' | 'date' | 'date-time' | 'datetime'
  readonly required?: boolean
  readonly nullable?: boolean
  readonly values?: readonly string[]
  readonly items?: FieldSpec
  readonly properties?: Readonly<Record<string, FieldSpec>>
  readonly min?: number
  readonly max?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly pattern?: string
  readonly default?: unknown
  readonly description?: string
}

/** What `toSchema` accepts: a zod schema, a map of field specs, or a map of zod schemas. */
export type SchemaLike = Schema | Readonly<Record<string, FieldSpec | Schema>>

/** The TypeScript type a schema-like describes. */
export type Infer<S> = S extends Schema
  ? z.output<S>
  : S extends Readonly<Record<string, FieldSpec | Schema>>
    ? InferFields<S>
    : unknown

type FieldValue<F> = F extends Schema
  ? z.output<F>
  : F extends { type: 'number' | 'integer' }
    ? number
    : F extends { type: 'boolean' }
      ? boolean
      : F extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : F extends { type: 'date' | 'datetime' | 'date-time' }
          ? string | Date
          : F extends { type: 'array'; items: infer I }
            ? FieldValue<I>[]
            : F extends { type: 'array' }
              ? unknown[]
              : F extends { type: 'object'; properties: infer P }
                ? InferFields<P>
                : F extends { type: 'object' }
                  ? Record<string, unknown>
                  : F extends { type: 'any' }
                    ? unknown
                    : string

type RequiredKeys<S> = { [K in keyof S]: S[K] extends Schema | { required: true } ? K : never }[keyof S]
type InferFields<S> = { [K in RequiredKeys<S>]: FieldValue<S[K]> } & {
  [K in Exclude<keyof S, RequiredKeys<S>>]?: FieldValue<S[K]>
} extends infer O
  ? { [K in keyof O]: O[K] }
  : never

/** True for a zod schema (or anything with zod's `safeParse`). */
export const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function'

const FIELD_TYPES: readonly FieldType[] = [
  'string',
  'number',
  'integer',
  'boolean',
  'date',
  'datetime',
  'date-time',
  'enum',
  'array',
  'object',
  'email',
  'url',
  'uuid',
  'any',
]

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype

/**
 * Turn a schema-like into a zod schema. `place` names where it was declared, for errors.
 *
 * @example
 * toSchema({ email: { type: 'string', format: 'email', required: true } }, 'UserService.register input')
 */
export function toSchema(value: unknown, place: string): Schema {
  if (isSchema(value)) return value
  if (!isPlainObject(value)) {
    throw new DeclarationError(
      `${place}: expected a zod schema or a map of fields like { to: { type: 'string', required: true } }, got ${describeValue(value)}`,
    )
  }
  const shape: Record<string, Schema> = {}
  for (const [field, spec] of Object.entries(value)) {
    shape[field] = isSchema(spec) ? spec : fieldSchema(spec, `${place}.${field}`)
  }
  return z.object(shape)
}

function fieldSchema(spec: unknown, place: string): Schema {
  if (!isPlainObject(spec) || typeof spec.type !== 'string') {
    throw new DeclarationError(
      `${place}: expected a field like { type: 'string' } or a zod schema, got ${describeValue(spec)}`,
    )
  }
  const field = spec as unknown as FieldSpec
  let schema = baseSchema(field, place)
  if (field.nullable) schema = schema.nullable()
  if (field.default !== undefined) return schema.default(field.default as never)
  return field.required ? schema : schema.optional()
}

function baseSchema(field: FieldSpec, place: string): Schema {
  const type = field.format && (field.type === 'string' || field.type === undefined) ? field.format : field.type
  switch (type) {
    case 'string':
      return stringSchema(field)
    case 'email':
      return z.email()
    case 'url':
    case 'uri':
      return z.url()
    case 'uuid':
      return z.uuid()
    case 'number':
    case 'integer': {
      let n = type === 'integer' ? z.number().int() : z.number()
      if (field.min !== undefined) n = n.min(field.min)
      if (field.max !== undefined) n = n.max(field.max)
      return n
    }
    case 'boolean':
      return z.boolean()
    case 'date':
      return z.union([z.date(), z.iso.date()])
    case 'datetime':
    case 'date-time':
      return z.union([z.date(), z.iso.datetime({ offset: true })])
    case 'enum': {
      const values = field.values
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
        throw new DeclarationError(`${place}: an enum field needs values: ['a', 'b'], got ${describeValue(values)}`)
      }
      return z.enum(values as [string, ...string[]])
    }
    case 'array':
      return z.array(field.items ? fieldSchema({ ...field.items, required: true }, `${place}.items`) : z.unknown())
    case 'object':
      return field.properties ? toSchema(field.properties, place) : z.record(z.string(), z.unknown())
    case 'any':
      return z.unknown()
    default:
      throw new DeclarationError(
        `${place}: unknown field type "${String(field.type)}"; expected one of ${FIELD_TYPES.join(', ')}`,
      )
  }
}

function stringSchema(field: FieldSpec): Schema {
  let s = z.string()
  if (field.minLength !== undefined) s = s.min(field.minLength)
  if (field.maxLength !== undefined) s = s.max(field.maxLength)
  if (field.pattern !== undefined) s = s.regex(new RegExp(field.pattern))
  return s
}

/**
 * Check `value` against `schema`; return the parsed value or throw a `ValidationError` whose
 * message starts with `label` (e.g. `'Order.created payload'`).
 */
export function validate<T>(schema: Schema<T>, value: unknown, label: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => toIssue(issue, value))
  const [first] = issues
  const whole = issues.length === 1 && first && !first.path
  throw new ValidationError(whole ? `${label} ${render(first)}` : `${label}: ${issues.map(render).join('; ')}`, issues)
}

interface ZodIssueLike {
  readonly code?: string
  readonly path: readonly PropertyKey[]
  readonly message: string
  readonly expected?: unknown
  readonly format?: string
  readonly values?: readonly unknown[]
  readonly minimum?: number | bigint
  readonly maximum?: number | bigint
  readonly inclusive?: boolean
  readonly origin?: string
}

function toIssue(issue: ZodIssueLike, root: unknown): ValidationIssue {
  const path = formatPath(issue.path)
  const received = valueAt(root, issue.path)
  const secret = issue.path.some((p) => typeof p === 'string' && isSecretField(p))
  return {
    path,
    message: issue.message,
    expected: expectedOf(issue),
    received: secret && received !== undefined ? `<redacted ${typeof received}>` : describeValue(received),
  }
}

function render(issue: ValidationIssue): string {
  const what = issue.expected ? `must be ${issue.expected}` : `is invalid (${issue.message})`
  return `${issue.path ? `${issue.path} ` : ''}${what}, got ${issue.received}`
}

function expectedOf(issue: ZodIssueLike): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return article(String(issue.expected))
    case 'invalid_format':
      return `a valid ${issue.format ?? 'value'}`
    case 'invalid_value':
      return issue.values ? `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` : undefined
    case 'too_small':
    case 'too_big':
      return bound(issue)
    default:
      return undefined
  }
}

/** `at least 0`, `at most 3 items`, `more than 0`, `at least 2 characters`. */
function bound(issue: ZodIssueLike): string | undefined {
  const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum
  if (limit === undefined) return undefined
  const small = issue.code === 'too_small'
  const words = issue.inclusive === false ? (small ? 'more than' : 'less than') : small ? 'at least' : 'at most'
  const unit =
    issue.origin === 'string' ? ' characters' : issue.origin === 'array' || issue.origin === 'set' ? ' items' : ''
  return `${words} ${String(limit)}${unit}`
}

const article = (raw: string): string => {
  const type = raw === 'int' ? 'integer' : raw
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${String(part)}` : String(part)
  }
  return out
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<PropertyKey, unknown>)[part]
  }
  return value
}

/** A short, log-safe rendering of a received value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'function') return 'a function'
  if (value instanceof Date) return value.toISOString()
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
