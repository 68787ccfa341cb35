/**
 * `bac keys create|ls|revoke`: the API keys of a `bac start` server, written straight to its
 * store (the first key cannot come from the server: nobody could call it yet). A key is shown
 * once; the store keeps only its hash.
 *
 * @example
 * bac keys create --role deployer --name ci --store postgres://bac@db/bac
 */
import { args, type Command, UsageError } from '../command.ts'
import { createKey, isRole, listKeys, ROLES, revokeKey } from '../server/api-keys.ts'
import { storeFrom, storeLabel } from '../store-option.ts'

const usage = `Usage: bac keys create --role ROLE [--name NAME] [--store STORE]
       bac keys ls [--store STORE]
       bac keys revoke ID [--store STORE]

API keys of a bac start server. Roles: ${ROLES.join(', ')}.

Options:
  --role ROLE     reader (read), sender (+ send events, call operations),
                  deployer (read + deploy, rollback), admin (everything)
  --name NAME     what the key is for (shown by ls)
  --store STORE   the server's store: a postgres:// URL or a SQLite file
                  (default: BAC_STORE, else .bac/server.db)`

export const keysCommand: Command = {
  name: 'keys',
  summary: 'create, list and revoke API keys of a bac start server',
  usage,
  async run(argv, io) {
    const { values, positionals } = args(argv, {
      role: { type: 'string' },
      name: { type: 'string' },
      store: { type: 'string' },
    })
    const [action, id, ...extra] = positionals
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`)
    if (action === 'create' && !isRole(values.role)) {
      throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(values.role ?? null)}`)
    }
    if (action === 'revoke' && !id) throw new UsageError('which key? bac keys revoke ID (ids are shown by bac keys ls)')
    if (action !== 'create' && action !== 'ls' && action !== 'revoke')
      throw new UsageError('expected create, ls or revoke')
    const store = storeFrom(values.store)
    await store.open()
    try {
      if (action === 'create') {
        const { token, key } = await createKey(
          store,
          { role: values.role as never, ...(values.name ? { name: values.name } : {}) },
          Date.now(),
        )
        io.out(token)
        io.err(
          `bac keys: created ${key.role} key ${key.id} (${key.name}) in ${storeLabel(values.store)}; it is shown only this once`,
        )
        return 0
      }
      if (action === 'ls') {
        for (const key of await listKeys(store)) {
          const state = key.revokedAt ? `revoked ${new Date(key.revokedAt).toISOString()}` : 'active'
          io.out(`${key.id}  ${key.role.padEnd(8)}  ${key.name}  ${new Date(key.createdAt).toISOString()}  ${state}`)
        }
        return 0
      }
      if (!(await revokeKey(store, id as string, Date.now()))) {
        io.err(`bac keys: no active key ${id}`)
        return 1
      }
      io.out(`revoked ${id}`)
      return 0
    } finally {
      await store.close()
    }
  },
}
