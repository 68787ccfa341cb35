/**
 * `bac start`: the runtime server for deployed businesses. It keeps deployments in its store
 * (PostgreSQL for many workers, or a SQLite file), loads every stored version at boot so runs
 * pinned to an old one still finish, and serves the HTTP app with API keys required.
 *
 * @example
 * bac keys create --role admin --store postgres://bac@db/bac
 * bac start --store postgres://bac@db/bac --port 4400
 */
import { join } from 'node:path'
import { createRuntime } from '@bac/runtime'
import { business } from '@bac/sdk'
import { args, type Command, UsageError } from '../command.ts'
import { Deployer } from '../server/deployer.ts'
import { type RuntimeServer, serveRuntime } from '../server/serve.ts'
import { storeFrom, storeLabel } from '../store-option.ts'
import { untilSignal } from './dev.ts'

const usage = `Usage: bac start [--store STORE] [--port N] [--host H] [--data DIR]

Serve deployed businesses (bac deploy) over HTTP; every API but /health needs an API key
(bac keys create).

Options:
  --store STORE   a postgres:// URL or a SQLite file (default: BAC_STORE, else .bac/server.db)
  --port N        the port (default: PORT, else 4400; 0 picks a free one)
  --host H        the address to listen on (default: 0.0.0.0)
  --data DIR      where loaded bundles are written (default: .bac)`

export const startCommand: Command = {
  name: 'start',
  summary: 'serve deployed businesses (the runtime server)',
  usage,
  async run(argv, io) {
    const { values, positionals } = args(argv, {
      store: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
    })
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`)
    const port = Number(values.port ?? process.env.PORT ?? 4400)
    if (!Number.isInteger(port) || port < 0) throw new UsageError(`--port must be a port number, got ${values.port}`)
    // Until something is deployed, an empty business.
    const rt = await createRuntime({ business: business('bac', () => {}), store: storeFrom(values.store) })
    let server: RuntimeServer | undefined
    const deployer = new Deployer(rt, join(values.data ?? '.bac', 'deployments'), () => server?.remount())
    const active = await deployer.boot()
    await rt.start()
    server = await serveRuntime({ runtime: rt, auth: 'keys', deployer }, { host: values.host ?? '0.0.0.0', port })
    io.out(
      `bac start: serving ${active ? `${rt.business.name} ${active}` : 'no deployment yet'} from ${storeLabel(values.store)} at ${server.url}`,
    )
    await untilSignal()
    io.out('bac start: stopping — runs in flight get a moment to finish')
    await server.close()
    await rt.stop()
    return 0
  },
}
