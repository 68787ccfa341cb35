/**
 * How values are stored: devalue, so what a step returned is what a replay gets back — a Date
 * stays a Date, `undefined` stays `undefined`, Maps and Sets survive — where JSON would change
 * them and make a resumed run behave differently from the first. A value devalue cannot store
 * (a class instance, a function) is an `UnstorableValueError`, which is not retried.
 *
 * @example
 * decode(encode({ at: new Date(0) })).at instanceof Date // true
 */
import { parse, stringify } from 'devalue'
import { UnstorableValueError } from './errors.ts'

export function encode(value: unknown): string {
  try {
    return stringify(value)
  } catch (error) {
    const { message, path } = error as { message: string; path?: string }
    throw new UnstorableValueError(`${message}${path ? ` at ${path}` : ''}`)
  }
}

export const decode = (text: string): unknown => parse(text)
