/**
 * `bac dlq ls|replay ID|discard ID`: the dead-letter queue of a running business. `replay
 * --all` replays every dead letter, showing its progress.
 *
 * @example
 * bac dlq ls
 * bac dlq replay --all
 */

import { request, targetOf } from '../client.ts'
import { args, type Command, UsageError } from '../command.ts'
import { REMOTE_OPTIONS, remote } from './send.ts'

interface DeadLetter {
  id: string
  runId: string
  name: string
  error: { message: string }
  attempts: unknown[]
  createdAt: number
}

export const dlqCommand: Command = {
  name: 'dlq',
  summary: 'list, replay or discard dead letters of a running business',
  usage: `Usage: bac dlq ls [--json]
       bac dlq replay ID | --all
       bac dlq discard ID

Options:
  --all    replay every dead letter
  --json   print JSON
${REMOTE_OPTIONS}`,
  async run(argv, io) {
    const { values, positionals } = args(argv, { ...remote, json: { type: 'boolean' }, all: { type: 'boolean' } })
    const [action = 'ls', id, ...extra] = positionals
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`)
    const target = targetOf(values)
    if (action === 'ls') {
      const letters = (await request(target, 'GET', '/api/dlq')) as DeadLetter[]
      if (values.json) io.out(JSON.stringify(letters, null, 2))
      else if (letters.length === 0) io.out('(no dead letters)')
      else for (const l of letters) io.out(`${l.id}  ${l.name}  ${l.attempts.length} attempts  ${l.error.message}`)
      return 0
    }
    if (action === 'replay' && values.all) {
      const letters = (await request(target, 'GET', '/api/dlq?limit=1000')) as DeadLetter[]
      for (const [i, letter] of letters.entries()) {
        await request(target, 'POST', `/api/dlq/${encodeURIComponent(letter.id)}/replay`)
        io.err(`replayed ${i + 1}/${letters.length}  ${letter.name}`)
      }
      io.out(`replayed ${letters.length}`)
      return 0
    }
    if ((action === 'replay' || action === 'discard') && id) {
      const result = (await request(target, 'POST', `/api/dlq/${encodeURIComponent(id)}/${action}`)) as { id?: string }
      io.out(action === 'replay' ? `replayed ${id} as run ${result.id}` : `discarded ${id}`)
      return 0
    }
    throw new UsageError('expected ls, replay ID (or --all), or discard ID')
  },
}
