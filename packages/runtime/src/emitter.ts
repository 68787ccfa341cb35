/**
 * In-process fan-out (mitt). mitt's type declarations are CommonJS-flavoured while Node loads
 * its ESM build, so under NodeNext the default import is typed as the module; this restates
 * the one function we call with its real type.
 *
 * @example
 * const emitter = createEmitter<{ settled: RunRecord }>()
 */
import mitt, { type Emitter, type EventType } from 'mitt'

export type { Emitter }

export const createEmitter = mitt as unknown as <Events extends Record<EventType, unknown>>() => Emitter<Events>
