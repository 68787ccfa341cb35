/**
 * SQL for document fields, per dialect: a field is `json_extract(data, '$."a"."b"')` on SQLite
 * and `(data #> '{a,b}')` (jsonb) on PostgreSQL; a filter tree becomes a WHERE clause. Field
 * paths and type names are checked before they get here (`parseField`, `checkType`) and are the
 * only things written into SQL; every value is a bound parameter. The same expressions are used
 * by `createIndex`, so an index and a query on a field match and the planner uses the index.
 *
 * @example
 * const where = jsonSql('sqlite').filter(parseFilter({ price: { $lt: 50 } }))
 */
import { type RawBuilder, sql } from 'kysely'
import type { Comparison, Field, Filter, Scalar } from '../db/filter.ts'

export type Dialect = 'sqlite' | 'postgres'

const TYPE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

/** A type name safe to write into SQL (it is, so that per-type partial indexes match queries). */
export function checkType(type: string): string {
  if (!TYPE.test(type)) {
    throw new TypeError(
      `db: a type is a name of letters, digits, _ and - starting with a letter (e.g. Product), got ${JSON.stringify(type)}`,
    )
  }
  return type
}

export interface JsonSql {
  /** `type = '<type>'` as a literal. */
  typeIs(type: string): RawBuilder<boolean>
  /** The field's value as the database compares and sorts it. */
  field(field: Field): RawBuilder<unknown>
  /** The field's value as text (for regex), or as a number (for sums). */
  text(field: Field): RawBuilder<unknown>
  number(field: Field): RawBuilder<unknown>
  /** A value to compare a field with. */
  value(field: Field, value: Scalar): RawBuilder<unknown>
  filter(filter: Filter): RawBuilder<boolean>
  /** The documents' data column as it is written: JSON text, or jsonb. */
  data(value: Readonly<Record<string, unknown>>): RawBuilder<unknown> | string
}

const COLUMNS = { id: 'id', createdAt: 'created_at', updatedAt: 'updated_at' } as const

export function jsonSql(dialect: Dialect): JsonSql {
  const pg = dialect === 'postgres'
  const column = (field: Field) => (field.kind === 'path' ? undefined : sql.ref(COLUMNS[field.kind]))
  const sqlitePath = (path: readonly string[]) => `$${path.map((part) => `."${part}"`).join('')}`
  const pgPath = (path: readonly string[]) => `{${path.join(',')}}`

  const self: JsonSql = {
    typeIs: (type) => sql<boolean>`type = ${sql.lit(checkType(type))}`,
    field(field) {
      const col = column(field)
      if (col || field.kind !== 'path') return col as RawBuilder<unknown>
      return pg
        ? sql`(data #> ${sql.lit(pgPath(field.path))})`
        : sql`json_extract(data, ${sql.lit(sqlitePath(field.path))})`
    },
    text(field) {
      if (field.kind !== 'path') return self.field(field)
      return pg ? sql`(data #>> ${sql.lit(pgPath(field.path))})` : self.field(field)
    },
    number(field) {
      if (field.kind !== 'path') return self.field(field)
      return pg ? sql`((data #>> ${sql.lit(pgPath(field.path))})::numeric)` : self.field(field)
    },
    value(field, value) {
      if (field.kind !== 'path') return sql`${value}`
      if (pg) return sql`${JSON.stringify(value)}::jsonb`
      return sql`${typeof value === 'boolean' ? Number(value) : value}`
    },
    filter(filter) {
      switch (filter.op) {
        case 'and':
        case 'or': {
          if (filter.filters.length === 0) return filter.op === 'and' ? sql<boolean>`1 = 1` : sql<boolean>`1 = 0`
          const parts = filter.filters.map((f) => sql`(${self.filter(f)})`)
          return sql<boolean>`${sql.join(parts, filter.op === 'and' ? sql` and ` : sql` or `)}`
        }
        case 'compare':
          return compare(filter.field, filter.compare, filter.value)
        case 'in': {
          const expr = self.field(filter.field)
          if (filter.values.length === 0) return filter.negate ? sql<boolean>`1 = 1` : sql<boolean>`1 = 0`
          const list = sql.join(filter.values.map((v) => self.value(filter.field, v)))
          // Like Mongo, $nin also matches documents without the field.
          return filter.negate
            ? sql<boolean>`(${expr} is null or ${expr} not in (${list}))`
            : sql<boolean>`${expr} in (${list})`
        }
        case 'exists': {
          if (filter.field.kind !== 'path') return filter.exists ? sql<boolean>`1 = 1` : sql<boolean>`1 = 0`
          const present = pg
            ? sql`(data #> ${sql.lit(pgPath(filter.field.path))}) is not null`
            : sql`json_type(data, ${sql.lit(sqlitePath(filter.field.path))}) is not null`
          return filter.exists ? sql<boolean>`${present}` : sql<boolean>`not (${present})`
        }
        case 'regex': {
          const text = self.text(filter.field)
          if (pg) return sql<boolean>`${text} ${sql.raw(filter.flags.includes('i') ? '~*' : '~')} ${filter.pattern}`
          return sql<boolean>`bac_regexp(${filter.pattern}, ${filter.flags}, ${text})`
        }
      }
    },
    data: (value) => (pg ? sql`${JSON.stringify(value)}::jsonb` : JSON.stringify(value)),
  }

  function compare(field: Field, op: Comparison, value: Scalar): RawBuilder<boolean> {
    const expr = self.field(field)
    if (value === null) {
      // null matches a missing field as well as an explicit null (and != null neither).
      const isNull =
        pg && field.kind === 'path' ? sql`(${expr} is null or ${expr} = 'null'::jsonb)` : sql`${expr} is null`
      if (op === '=') return sql<boolean>`${isNull}`
      if (op === '!=') return sql<boolean>`not ${isNull}`
    }
    const bound = self.value(field, value)
    if (op === '!=') return pg ? sql<boolean>`${expr} is distinct from ${bound}` : sql<boolean>`${expr} is not ${bound}`
    if (op === '=' || field.kind !== 'path' || value === null) return sql<boolean>`${expr} ${sql.raw(op)} ${bound}`
    // Like MongoDB, an order compares values of one type: a number with numbers, a string with
    // strings — else the stores would disagree ("5" is above 10 in jsonb, below it in SQLite).
    return sql<boolean>`${typeIs(field.path, typeof value)} and ${expr} ${sql.raw(op)} ${bound}`
  }

  /** The field holds a JSON value of this JavaScript type. */
  function typeIs(path: readonly string[], type: string): RawBuilder<boolean> {
    if (pg) {
      const name = type === 'number' ? 'number' : type === 'string' ? 'string' : 'boolean'
      return sql<boolean>`jsonb_typeof(data #> ${sql.lit(pgPath(path))}) = ${sql.lit(name)}`
    }
    const names = type === 'number' ? "('integer', 'real')" : type === 'string' ? "('text')" : "('true', 'false')"
    return sql<boolean>`json_type(data, ${sql.lit(sqlitePath(path))}) in ${sql.raw(names)}`
  }

  return self
}
