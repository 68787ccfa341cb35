/**
 * `bac dev [entry]`: run a business locally on the embedded SQLite file `.bac/dev.db`, serve
 * its HTTP app and dashboard on 127.0.0.1 (open there, no key), and reload it when its files
 * change — keeping durable state: runs in flight finish on the version they started on. A
 * file that does not load is reported and the previous version keeps running. Ctrl-C stops it
 * gracefully; what is unfinished resumes on the next start.
 *
 * @example
 * bac dev examples/shop
 */
import { type FSWatcher, mkdirSync, rmSync, watch, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { createRuntime, load, resolveEntry } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { describe } from '@bac/sdk'
import { args, type Command, type Io, UsageError } from '../command.ts'
import { inspect } from '../inspect/inspect.ts'
import { renderGraph } from '../inspect/render.ts'
import { serveRuntime } from '../server/serve.ts'
import { render } from './describe.ts'

const usage = `Usage: bac dev [entry] [--db FILE] [--port N] [--no-watch]

Run the business at entry (a file, or a directory with index.ts; default: .) on an
embedded SQLite database, with its HTTP app and dashboard on 127.0.0.1. Changed files
reload it. Stop with Ctrl-C.

Options:
  --db FILE     the database file (default: .bac/dev.db)
  --port N      the port (default: 4400; 0 picks a free one)
  --no-watch    do not reload on changes`

/** Resolves on Ctrl-C or SIGTERM; keeps the process alive until then. */
export function untilSignal(): Promise<void> {
  const alive = setInterval(() => {}, 1 << 30)
  return new Promise<void>((resolve) => {
    const stop = () => {
      clearInterval(alive)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

/** Files whose change reloads the business: sources, not what the runtime itself writes. */
const relevant = (file: string) =>
  /\.(m|c)?(t|j)sx?$|\.json$/.test(file) && !/(^|[/\\])(node_modules|\.bac|\.git)([/\\]|$)/.test(file)

export const devCommand: Command = {
  name: 'dev',
  summary: 'run a business locally on SQLite, with its HTTP app and dashboard; reload on change',
  usage,
  async run(argv, io) {
    const { values, positionals } = args(argv, {
      db: { type: 'string' },
      port: { type: 'string' },
      'no-watch': { type: 'boolean' },
    })
    if (positionals.length > 1) throw new UsageError(`expected one entry, got ${positionals.join(' ')}`)
    const port = Number(values.port ?? 4400)
    if (!Number.isInteger(port) || port < 0) throw new UsageError(`--port must be a port number, got ${values.port}`)
    const began = performance.now()
    const entry = resolveEntry(positionals[0] ?? '.')
    const business = await load(entry)
    const file = values.db ?? '.bac/dev.db'
    const rt = await createRuntime({ business, store: sqlite({ file, synchronous: 'normal' }) })
    await rt.start()
    const graph = async () => {
      const result = inspect(entry)
      return { ...result, text: renderGraph(result, 'text') }
    }
    const server = await serveRuntime({ runtime: rt, auth: 'open', graph }, { host: '127.0.0.1', port })
    // Beside the database (.bac/dev.json by default): where `bac send` run here looks for the server.
    const state = join(dirname(file), 'dev.json')
    mkdirSync(dirname(state), { recursive: true })
    writeFileSync(state, JSON.stringify({ url: server.url, pid: process.pid }))
    io.out(render(describe(business)))
    io.out(
      `\nbac dev: ${business.name} is running on ${file} at ${server.url} (ready in ${Math.round(performance.now() - began)} ms; Ctrl-C to stop)`,
    )

    const watcher = values['no-watch']
      ? undefined
      : watchSources(entry, io, async () => {
          const version = `dev-${++reloads}`
          const next = await load(entry)
          await rt.activate(next, { version })
          server.remount()
          return next
        })
    let reloads = 0
    await untilSignal()
    watcher?.close()
    io.out('bac dev: stopping — runs in flight get a moment to finish')
    await server.close()
    await rt.stop()
    rmSync(state, { force: true })
    return 0
  },
}

/**
 * Watch the entry's directory; after a burst of changes settles, reload. One reload at a time;
 * changes made during one are picked up by the next.
 */
function watchSources(entry: string, io: Io, reload: () => Promise<{ name: string }>): FSWatcher {
  const root = dirname(entry)
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const changed = new Set<string>()
  const watcher = watch(root, { recursive: true }, (_event, name) => {
    if (!name || !relevant(name)) return
    changed.add(name)
    clearTimeout(timer)
    timer = setTimeout(() => {
      running = running.then(async () => {
        const files = [...changed].map((f) => relative(process.cwd(), join(root, f)) || f)
        changed.clear()
        const started = performance.now()
        try {
          const business = await reload()
          io.out(
            `bac dev: reloaded ${business.name} in ${Math.round(performance.now() - started)} ms (${files.join(', ')})`,
          )
        } catch (error) {
          io.err(
            `bac dev: ${files.join(', ')} did not load — the previous version keeps running:\n${(error as Error).message}`,
          )
        }
      })
    }, 30)
  })
  return watcher
}
