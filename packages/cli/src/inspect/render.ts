/**
 * A graph from `inspect` as text (for people), JSON (for tools) or a Mermaid flowchart
 * (events as rounded nodes, code as boxes, warnings as red dashed edges).
 *
 * @example
 * console.log(renderGraph(inspect('examples/shop'), 'mermaid'))
 */
import { relative } from 'node:path'
import type { Graph } from './inspect.ts'

export type GraphFormat = 'text' | 'json' | 'mermaid'

const where = (at: { file: string; line: number }) => `${relative(process.cwd(), at.file) || at.file}:${at.line}`

function text(graph: Graph): string {
  const lines = [`business ${graph.business}`]
  const sends = (list: readonly string[]) => (list.length ? ` → sends ${list.join(', ')}` : '')
  if (graph.handlers.length) lines.push('', 'handlers')
  for (const h of graph.handlers) lines.push(`  ${h.name}  on ${h.events.join(', ')}${sends(h.sends)}  (${where(h)})`)
  if (graph.schedules.length) lines.push('', 'schedules')
  for (const s of graph.schedules) lines.push(`  ${s.name}  every ${s.schedule}${sends(s.sends)}  (${where(s)})`)
  if (graph.services.length) lines.push('', 'services')
  for (const s of graph.services) {
    lines.push(`  ${s.name}  (${where(s)})`)
    for (const o of s.operations) lines.push(`    ${o.name}  as ${o.verb}${sends(o.sends)}`)
  }
  if (graph.sagas.length) lines.push('', 'sagas')
  for (const s of graph.sagas)
    lines.push(`  ${s.name}  ${s.steps.map((step) => `${step.name}${sends(step.sends)}`).join('; ')}`)
  if (graph.agents.length) lines.push('', 'agents')
  for (const a of graph.agents) lines.push(`  ${a.name}  tools ${a.tools.join(', ') || '(none)'}`)
  lines.push('', graph.warnings.length ? 'warnings' : 'no warnings')
  for (const w of graph.warnings)
    lines.push(`  ${w.kind}: ${w.message}${w.file ? `  (${where({ file: w.file, line: w.line ?? 0 })})` : ''}`)
  return lines.join('\n')
}

function mermaid(graph: Graph): string {
  const ids = new Map<string, string>()
  const id = (name: string) => {
    if (!ids.has(name)) ids.set(name, `n${ids.size}`)
    return ids.get(name) as string
  }
  const label = (s: string) => s.replace(/"/g, "'")
  const lines = ['flowchart LR']
  const event = (name: string) => `${id(`event:${name}`)}(["${label(name)}"])`
  const code = (key: string, name: string) => `${id(key)}["${label(name)}"]`
  for (const h of graph.handlers) {
    for (const e of h.events) lines.push(`  ${event(e)} --> ${code(`handler:${h.name}`, h.name)}`)
    for (const e of h.sends) lines.push(`  ${code(`handler:${h.name}`, h.name)} --> ${event(e)}`)
  }
  for (const s of graph.schedules)
    for (const e of s.sends) lines.push(`  ${code(`schedule:${s.name}`, `every ${s.schedule}`)} --> ${event(e)}`)
  for (const s of graph.services) {
    for (const o of s.operations) {
      lines.push(`  ${event(o.verb)} --> ${code(`op:${o.verb}`, `${s.name}.${o.name}`)}`)
      for (const e of o.sends) lines.push(`  ${code(`op:${o.verb}`, `${s.name}.${o.name}`)} --> ${event(e)}`)
    }
  }
  for (const w of graph.warnings.filter((w) => w.kind === 'unhandled')) {
    const event = /sends (\S+), which/.exec(w.message)?.[1]
    if (event) lines.push(`  style ${id(`event:${event}`)} stroke:#d33,stroke-dasharray:4`)
  }
  return lines.join('\n')
}

export function renderGraph(graph: Graph, format: GraphFormat): string {
  if (format === 'json') return JSON.stringify(graph, null, 2)
  return format === 'mermaid' ? mermaid(graph) : text(graph)
}
