/**
 * Identifiers. Runs and events outside a run get random ids; what a run creates — the events
 * it sends, the operations it calls — gets an id derived from the run and the call's position
 * in it, so a retried or resumed run names the same things again and the store drops the copy.
 *
 * @example
 * deterministicId(run.id, 'send', 2) // the second send of this run, on every attempt
 */
import { createHash, randomUUID } from 'node:crypto'

export const newId = (): string => randomUUID()

export function deterministicId(parent: string, kind: string, position: number): string {
  const hex = createHash('sha256').update(`${parent}\u0000${kind}\u0000${position}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
