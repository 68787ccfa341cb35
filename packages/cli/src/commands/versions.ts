/**
 * `bac versions` lists the versions deployed to a `bac start` server; `bac rollback [version]`
 * makes an earlier one active again (by default the one active before the current). Runs in
 * flight keep the version they started on either way.
 *
 * @example
 * bac versions --url https://bac.example.com
 * bac rollback 1.2.0
 */

import { request, targetOf } from '../client.ts'
import { args, type Command, UsageError } from '../command.ts'
import { REMOTE_OPTIONS, remote } from './send.ts'

interface Versions {
  active: string | null
  deployments: { version: string; createdAt: number; activatedAt?: number; active: boolean; sha256: string }[]
}

export const versionsCommand: Command = {
  name: 'versions',
  summary: 'list the versions deployed to a server',
  usage: `Usage: bac versions [--json]\n\nOptions:\n  --json   print JSON\n${REMOTE_OPTIONS}`,
  async run(argv, io) {
    const { values, positionals } = args(argv, { ...remote, json: { type: 'boolean' } })
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`)
    const versions = (await request(targetOf(values), 'GET', '/api/versions')) as Versions
    if (values.json) io.out(JSON.stringify(versions, null, 2))
    else if (versions.deployments.length === 0) io.out('(nothing deployed)')
    else
      for (const d of versions.deployments) {
        io.out(
          `${d.active ? '*' : ' '} ${d.version}  deployed ${new Date(d.createdAt).toISOString()}  ${d.sha256.slice(0, 12)}`,
        )
      }
    return 0
  },
}

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'make an earlier deployed version active again',
  usage: `Usage: bac rollback [version]\n\nWithout a version: the one active before the current one.\n\nOptions:\n${REMOTE_OPTIONS}`,
  async run(argv, io) {
    const { values, positionals } = args(argv, remote)
    if (positionals.length > 1) throw new UsageError(`expected at most one version, got ${positionals.join(' ')}`)
    const result = (await request(
      targetOf(values),
      'POST',
      '/api/rollback',
      positionals[0] ? { version: positionals[0] } : {},
    )) as {
      active: string
      previous?: string
    }
    io.out(`active: ${result.active}${result.previous ? ` (was ${result.previous})` : ''}`)
    return 0
  },
}
