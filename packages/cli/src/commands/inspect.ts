/**
 * `bac inspect [entry]`: read a business's sources (ts-morph; nothing is run) and print its
 * graph — handlers, schedules, services, sagas and agents, what each sends — with warnings for
 * events nothing handles, handlers of events nothing sends, and cycles. Exits 0 either way;
 * `--strict` exits 1 when there are warnings (for CI).
 *
 * @example
 * bac inspect examples/shop --format mermaid
 */
import { resolveEntry } from '@bac/runtime'
import { args, type Command, UsageError } from '../command.ts'
import { inspect } from '../inspect/inspect.ts'
import { type GraphFormat, renderGraph } from '../inspect/render.ts'

const FORMATS: readonly GraphFormat[] = ['text', 'json', 'mermaid']

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'read a business’s sources and show its event graph, with warnings',
  usage: `Usage: bac inspect [entry] [--format text|json|mermaid] [--strict]

Read the business at entry (default: .) without running it.

Options:
  --format F   text (default), json or mermaid
  --strict     exit 1 if there are warnings`,
  async run(argv, io) {
    const { values, positionals } = args(argv, { format: { type: 'string' }, strict: { type: 'boolean' } })
    if (positionals.length > 1) throw new UsageError(`expected one entry, got ${positionals.join(' ')}`)
    const format = (values.format ?? 'text') as GraphFormat
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, got ${values.format}`)
    const graph = inspect(resolveEntry(positionals[0] ?? '.'))
    io.out(renderGraph(graph, format))
    return values.strict && graph.warnings.length > 0 ? 1 : 0
  },
}
