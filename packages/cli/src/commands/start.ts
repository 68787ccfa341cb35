/**
 * `bac start`: the runtime server for deployed businesses. It keeps deployments in its store
 * (PostgreSQL for many workers, or a SQLite file), loads every stored version at boot so runs
 * pinned to an old one still finish, and serves the HTTP app with API keys required.
 *
 * @example
 * bac keys create --role admin --store postgres://bac@db/bac
 * bac start --store postgres://bac@db/bac --port 4400
 */
import cluster from 'node:cluster'
import { join } from 'node:path'
import { createRuntime } from '@bac/runtime'
import { business } from '@bac/sdk'
import { args, type Command, type Io, UsageError } from '../command.ts'
import { Deployer } from '../server/deployer.ts'
import { type RuntimeServer, serveRuntime } from '../server/serve.ts'
import { isPostgres, storeFrom, storeLabel } from '../store-option.ts'
import { untilSignal } from './dev.ts'

const usage = `Usage: bac start [--store STORE] [--port N] [--host H] [--data DIR] [--workers N]

Serve deployed businesses (bac deploy) over HTTP; every API but /health needs an API key
(bac keys create).

Options:
  --store STORE   a postgres:// URL or a SQLite file (default: BAC_STORE, else .bac/server.db)
  --port N        the port (default: PORT, else 4400; 0 picks a free one)
  --host H        the address to listen on (default: 0.0.0.0)
  --data DIR      where loaded bundles are written (default: .bac)
  --workers N     run N worker processes sharing the port (default 1; more need a
                  PostgreSQL store); or start several bac start processes, on any
                  machines, on one PostgreSQL`

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
      workers: { type: 'string' },
    })
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`)
    const port = Number(values.port ?? process.env.PORT ?? 4400)
    if (!Number.isInteger(port) || port < 0) throw new UsageError(`--port must be a port number, got ${values.port}`)
    const workers = Number(values.workers ?? 1)
    if (!Number.isInteger(workers) || workers < 1) {
      throw new UsageError(`--workers must be a whole number of at least 1, got ${values.workers}`)
    }
    // Workers find each other's work through PostgreSQL (LISTEN/NOTIFY, leases); a SQLite file
    // is one process's store.
    if (workers > 1 && !isPostgres(values.store)) {
      throw new UsageError(
        `--workers ${workers} needs a postgres:// --store that the workers share, got the SQLite file ${storeLabel(values.store)}`,
      )
    }
    if (workers > 1 && cluster.isPrimary) return supervise(workers, io)
    // Until something is deployed, an empty business.
    const rt = await createRuntime({ business: business('bac', () => {}), store: storeFrom(values.store) })
    let server: RuntimeServer | undefined
    const deployer = new Deployer(rt, join(values.data ?? '.bac', 'deployments'), () => server?.remount())
    const active = await deployer.boot()
    await rt.start()
    // Deploys made through other workers (other processes, other machines) reach this one too.
    const unwatch = await deployer.watch()
    server = await serveRuntime({ runtime: rt, auth: 'keys', deployer }, { host: values.host ?? '0.0.0.0', port })
    const who = cluster.isWorker ? `worker ${cluster.worker?.id} ` : ''
    const what = active ? `${rt.business.name} ${active}` : 'no deployment yet'
    io.out(`bac start: ${who}serving ${what} from ${storeLabel(values.store)} at ${server.url}`)
    await untilSignal()
    io.out(`bac start: ${who}stopping — runs in flight get a moment to finish`)
    await unwatch()
    await server.close()
    await rt.stop()
    // The channel to the supervisor would keep a worker alive.
    cluster.worker?.disconnect()
    return 0
  },
}

/**
 * `--workers N`: N worker processes (node:cluster), sharing the port; each is a whole runtime
 * claiming from the same store. A worker that dies is replaced; Ctrl-C stops them all.
 */
async function supervise(workers: number, io: Io): Promise<number> {
  let stopping = false
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    io.err(`bac start: worker ${worker.id} exited (${signal ?? code}); starting another`)
    cluster.fork()
  })
  for (let i = 0; i < workers; i++) cluster.fork()
  await untilSignal()
  stopping = true
  const running = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead())
  const exits = running.map((worker) => new Promise<void>((resolve) => worker?.once('exit', () => resolve())))
  for (const worker of running) worker?.process.kill('SIGTERM')
  await Promise.all(exits)
  return 0
}
