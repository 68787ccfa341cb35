/**
 * The PostgreSQL store: many runtime workers, on one or many machines, share one database.
 * Workers claim runs with `FOR UPDATE SKIP LOCKED`, so none claims what another holds.
 *
 * @example
 * const store = postgres({ url: process.env.DATABASE_URL })
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { KyselyStore } from '../kysely-store.ts'
import type { Database as Schema } from '../schema.ts'
import type { ChangeChannel, Store } from '../store.ts'

export interface PostgresOptions {
  /** A `postgres://` connection string. */
  readonly url: string
  /** Connections in the pool (default 10). */
  readonly max?: number
}

const INT8 = 20

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparseable postgres url>'
  }
}

export function postgres(options: PostgresOptions): Store {
  if (typeof options?.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url)) {
    throw new Error(
      `postgres(): url must be a postgres:// connection string, got ${JSON.stringify(options?.url && redactUrl(options.url))}`,
    )
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    // Times and sequence numbers are int8; they fit in a JavaScript number.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  })
  // A connection the server drops (a restart, a failover) is discarded by the pool and replaced
  // on the next query; a query it was running fails and is retried like any failure. Unhandled,
  // its 'error' — on the pool when idle, on the client when checked out — would end the process.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return new KyselyStore({
    kind: 'postgres',
    db: new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }),
    where: redactUrl(options.url),
    listen: (channel, onChange) => listen(options.url, channel, onChange),
  })
}

/**
 * LISTEN on its own connection (a pooled one would be handed to others). A lost connection is
 * re-made with backoff; each (re)connect calls `onChange` once, for what was missed meanwhile.
 */
async function listen(url: string, channel: ChangeChannel, onChange: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined
  let closed = false
  let failures = 0
  let retry: NodeJS.Timeout | undefined
  const connect = async (): Promise<void> => {
    // TCP keepalive: a connection a NAT or proxy dropped silently is noticed, not listened on forever.
    const next = new pg.Client({ connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: 10_000 })
    next.on('notification', (message) => {
      if (message.channel === channel) onChange()
    })
    next.on('error', () => reconnect())
    next.on('end', () => {
      if (client === next) reconnect()
    })
    await next.connect()
    await next.query(`LISTEN ${channel}`)
    if (closed) {
      await next.end()
      return
    }
    client = next
    failures = 0
    onChange()
  }
  const reconnect = () => {
    if (closed || retry) return
    client?.end().catch(() => {})
    client = undefined
    retry = setTimeout(
      () => {
        retry = undefined
        connect().catch(reconnect)
      },
      Math.min(5000, 100 * 2 ** failures++),
    )
    retry.unref()
  }
  await connect()
  return async () => {
    closed = true
    clearTimeout(retry)
    await client?.end().catch(() => {})
  }
}
