/**
 * `@bac/runtime`: executes a business definition durably.
 *
 * @example
 * import { load } from '@bac/runtime'
 */
export { type LoadOptions, load, resolveEntry } from './load.ts'
