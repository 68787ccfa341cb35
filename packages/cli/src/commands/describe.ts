/**
 * `bac describe [entry] [--json]`: load a business and list what it declares — handlers with
 * the events they handle and send, schedules with their next firing, services with their
 * operations and verbs, sagas, compositions, agents. (`bac inspect` reads the sources without
 * running them; this loads them.)
 *
 * @example
 * bac describe examples/shop
 */
import { parseArgs } from 'node:util'
import { load } from '@bac/runtime'
import { type BusinessDescription, describe } from '@bac/sdk'
import { type Command, UsageError } from '../command.ts'

const usage = `Usage: bac describe [entry] [--json]

Load the business at entry (a file, or a directory with index.ts; default: .) and list
what it declares.

Options:
  --json   print the listing as JSON`

export const describeCommand: Command = {
  name: 'describe',
  summary: 'load a business and list its handlers, schedules, services and sagas',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv)
    if (positionals.length > 1) throw new UsageError(`expected one entry, got ${positionals.join(' ')}`)
    const listing = describe(await load(positionals[0] ?? '.'))
    io.out(values.json ? JSON.stringify(listing, null, 2) : render(listing))
    return 0
  },
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: { json: { type: 'boolean' } }, allowPositionals: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : '—')

/** The listing as aligned text sections. */
export function render(listing: BusinessDescription): string {
  const lines = [`business ${listing.name}`]
  const section = (title: string, rows: readonly string[]) => {
    if (rows.length > 0) lines.push('', `${title}:`, ...rows.map((row) => `  ${row}`))
  }
  section(
    'handlers',
    listing.handlers.map((h) => `${h.name}  on ${list(h.events)}  sends ${list(h.sends)}`),
  )
  section(
    'schedules',
    listing.schedules.map((s) => `${s.name}  ${s.description} (${s.cron})  next ${s.next ?? 'never'}`),
  )
  section(
    'services',
    listing.services.flatMap((s) => [
      `${s.name}${s.version ? `@${s.version}` : ''}${s.type ? ` (${s.type})` : ''}`,
      ...s.operations.map((o) => `  ${o.verb}${o.internal ? ' (internal)' : ''}`),
      ...s.endpoints.map((e) => `  ${e}`),
    ]),
  )
  section(
    'sagas',
    listing.sagas.map(
      (s) => `${s.name}  ${s.steps.map((step) => step.name + (step.compensation ? '↺' : '')).join(' → ')}`,
    ),
  )
  section(
    'compositions',
    listing.compositions.map((c) => `${c.name}  ${c.mode}: ${c.steps.join(', ')}`),
  )
  section(
    'agents',
    listing.agents.map((a) => `${a.name}  tools ${list(a.tools)}`),
  )
  section(
    'events',
    listing.events.map((e) => e.name),
  )
  return lines.join('\n')
}
