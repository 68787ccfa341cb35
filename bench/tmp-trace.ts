import { createRuntime, jsonLogger } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import { $, business, db, on } from '@bac/sdk'
import pg from 'pg'
import { freshSchema } from './postgres-bench.ts'

const schema = await freshSchema()
const rt = await createRuntime({
  business: business('t', () => {
    on($.Counter.bumped, async () => {
      await db.update('Counter', 'c', { $inc: { n: 1 } })
    })
  }),
  store: postgres({ url: schema.url, max: 16 }),
  concurrency: 16,
  logger: jsonLogger({ level: 'warn' }),
})
await rt.start()
await rt.db.create('Counter', { $id: 'c', n: 0 })
await rt.db.update('Counter', 'c', { $inc: { n: 1 } })
let log: string[] | undefined
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const a = args[0] as string | { text: string }
  log?.push(typeof a === 'string' ? a : a.text)
  return query.apply(this, args)
} as never
log = []
await rt.db.update('Counter', 'c', { $inc: { n: 1 } })
console.log('--- rt.db.update', log.length); for (const l of log) console.log('  ', l.slice(0, 200))
log = []
await rt.db.transaction(async (tx) => { await tx.get('Counter', 'c', { forUpdate: true }); await tx.update('Counter', 'c', { $inc: { n: 1 } }); await tx.create('Ledger', { a: 1 }) })
console.log('--- rt.db.transaction', log.length); for (const l of log) console.log('  ', l.slice(0, 200))
log = []
await rt.send($.Counter.bumped, {})
await rt.drain()
console.log('--- run', log.length); for (const l of log) console.log('  ', l.slice(0, 200))
log = undefined
await rt.stop()
await schema.drop()
