/**
 * `bac dev [entry]`: run a business locally on the embedded SQLite file `.bac/dev.db`, with
 * what it loaded listed on start. Ctrl-C stops it gracefully; what is unfinished resumes on
 * the next start.
 *
 * @example
 * bac dev examples/shop
 */
import { parseArgs } from 'node:util'
import { createRuntime, load } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { describe } from '@bac/sdk'
import { type Command, UsageError } from '../command.ts'
import { render } from './describe.ts'

const usage = `Usage: bac dev [entry] [--db FILE]

Run the business at entry (a file, or a directory with index.ts; default: .) on an
embedded SQLite database. Stop with Ctrl-C.

Options:
  --db FILE   the database file (default: .bac/dev.db)`

export const devCommand: Command = {
  name: 'dev',
  summary: 'run a business locally on SQLite (.bac/dev.db)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv)
    if (positionals.length > 1) throw new UsageError(`expected one entry, got ${positionals.join(' ')}`)
    const business = await load(positionals[0] ?? '.')
    const file = values.db ?? '.bac/dev.db'
    const rt = await createRuntime({ business, store: sqlite({ file, synchronous: 'normal' }) })
    await rt.start()
    io.out(render(describe(business)))
    io.out(`\nbac dev: ${business.name} is running on ${file} (Ctrl-C to stop)`)
    // The runtime's timers do not hold the process open; this does, until Ctrl-C.
    const alive = setInterval(() => {}, 1 << 30)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    clearInterval(alive)
    io.out('bac dev: stopping — runs in flight get a moment to finish')
    await rt.stop()
    return 0
  },
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: { db: { type: 'string' } }, allowPositionals: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
