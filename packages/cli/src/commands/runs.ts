/**
 * `bac runs [--status S]` lists the runs of a running business; `bac runs show ID` shows one
 * with its steps (results, errors, AI calls with tokens).
 *
 * @example
 * bac runs --status failed
 * bac runs show 01J9...
 */

import { request, targetOf } from '../client.ts'
import { args, type Command, UsageError } from '../command.ts'
import { REMOTE_OPTIONS, remote } from './send.ts'

interface Run {
  id: string
  status: string
  kind: string
  name: string
  attempt: number
  createdAt: number
  startedAt?: number
  finishedAt?: number
  error?: { message: string }
  result?: unknown
  steps?: { key: string; result: unknown; finishedAt: number }[]
}

const time = (ms?: number) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '')
const short = (value: unknown, max = 100) => {
  const text = JSON.stringify(value) ?? ''
  return text.length > max ? `${text.slice(0, max)}…` : text
}

export function renderRuns(runs: readonly Run[]): string {
  if (runs.length === 0) return '(no runs)'
  const rows = runs.map((r) => [r.id, r.status, r.kind, r.name, String(r.attempt), time(r.createdAt)])
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function renderRun(run: Run): string {
  const lines = [
    `${run.kind} ${run.name}  ${run.status}  attempt ${run.attempt}`,
    `id       ${run.id}`,
    `created  ${time(run.createdAt)}${run.finishedAt ? `   finished ${time(run.finishedAt)}` : ''}`,
  ]
  if (run.error) lines.push(`error    ${run.error.message}`)
  if (run.result !== undefined) lines.push(`result   ${short(run.result, 200)}`)
  if (run.steps?.length) {
    lines.push('steps')
    for (const step of run.steps) {
      const ai = step.result as { model?: string; usage?: { inputTokens: number; outputTokens: number }; cost?: number }
      const detail = ai?.usage
        ? `${ai.model}, ${ai.usage.inputTokens}+${ai.usage.outputTokens} tokens, $${ai.cost}`
        : short(step.result)
      lines.push(`  ${step.key}  ${detail}`)
    }
  }
  return lines.join('\n')
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list the runs of a running business, or show one',
  usage: `Usage: bac runs [--status S] [--kind K] [--name N] [--limit N] [--json]
       bac runs show ID [--json]

Options:
  --status S   pending, running, waiting, completed, failed, compensated...
  --kind K     handler, operation, schedule, saga, composition, agent
  --json       print JSON
${REMOTE_OPTIONS}`,
  async run(argv, io) {
    const { values, positionals } = args(argv, {
      ...remote,
      status: { type: 'string' },
      kind: { type: 'string' },
      name: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    })
    const target = targetOf(values)
    if (positionals[0] === 'show') {
      if (!positionals[1]) throw new UsageError('which run? bac runs show ID')
      const run = (await request(target, 'GET', `/api/runs/${encodeURIComponent(positionals[1])}`)) as Run
      io.out(values.json ? JSON.stringify(run, null, 2) : renderRun(run))
      return 0
    }
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`)
    const query = new URLSearchParams()
    for (const key of ['status', 'kind', 'name', 'limit'] as const)
      if (values[key]) query.set(key, values[key] as string)
    const runs = (await request(target, 'GET', `/api/runs?${query}`)) as Run[]
    io.out(values.json ? JSON.stringify(runs, null, 2) : renderRuns(runs))
    return 0
  },
}
