/**
 * How values are stored: devalue, so what a step returned is what a replay gets back — a Date
 * stays a Date, `undefined` stays `undefined`, Maps and Sets survive — where JSON would change
 * them and make a resumed run behave differently from the first.
 *
 * @example
 * decode(encode({ at: new Date(0) })).at instanceof Date // true
 */
import { parse, stringify } from 'devalue'

export const encode = (value: unknown): string => stringify(value)
export const decode = (text: string): unknown => parse(text)
