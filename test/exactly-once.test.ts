/**
 * A db write in a run happens exactly once, whatever instant a `kill -9` hits. Each case:
 * a fresh store; a worker process sends 20 `Counter.bumped` events and works until it
 * SIGKILLs itself at a chosen point of a run's life (crash injection around its store, see
 * fixtures/exactly-once/worker.ts); a second worker sends the same events again (idempotent)
 * and works until every run has ended. Then: every run completed, nothing dead-lettered, one
 * event per item and one per write (the events a write emits commit with it), the counter's `n`
 * and `t` are exactly 20 (and it was written 40 times), there are exactly 20 entries, each run
 * recorded its update, its transaction and `after`, and the recorded write results are 1..20 once each (a
 * write applied twice would leave a gap; one applied but not recorded, a duplicate).
 * Also: the recovering worker killed too; two workers taking over at once; a worker "of another
 * machine" whose leases must expire. On SQLite and on PostgreSQL. EXACTLY_ONCE_SWEEP=1 tries
 * every k of every kill point instead (~10 minutes a store).
 *
 * Why it would catch a write and its step record committed separately: at
 * `documents.transaction:after` the write's transaction has committed and the process dies
 * before the runtime sees the result. Committed together, the replay finds the write recorded and
 * returns it; committed apart, the write would be in the database and its step not, so the replay
 * would apply the `$inc` again. One case emulates that design (SPLIT_COMMITS) and shows the
 * checks fail on it.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRuntime, jsonLogger, type Runtime } from '@bac/runtime'
import { postgres } from '@bac/runtime/postgres'
import { sqlite } from '@bac/runtime/sqlite'
import { beforeAll, describe, expect, it } from 'vitest'
import { digest } from '../packages/runtime/src/digest.ts'
import {
  announcePostgresSkip,
  freshPostgresUrl,
  POSTGRES_URL,
  tempFile,
} from '../packages/runtime/src/store/test-stores.fixture.ts'
import { type Counter, exactlyOnce, type Pair } from './fixtures/exactly-once/business.ts'

const N = 20
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
/**
 * Short leases, so a dead worker's runs come back fast where its death cannot be seen: a worker
 * starting on the same machine releases a dead pid's leases at once (dead-workers.ts, on either
 * store); another machine's leases expire (the FOREIGN case).
 */
const LEASE_MS = '1000'

/**
 * The durable keys of the fixture's writes (`$db(<what>)#n`, run-context.ts): what they are
 * (operation, type, digest of target and fields changed), then which of those.
 */
const UPDATE = '$db(update:Counter:'
const TRANSACTION = '$db(transaction:'
const PAIR_A = `$db(update:Pair:${digest(['p', ['$inc a']])})#1`
const PAIR_B = `$db(update:Pair:${digest(['p', ['$inc b']])})#1`

/**
 * `<store method>:<before|inside|after>:<k>[:<step key>]` — the k-th such call (fixtures/
 * exactly-once/worker.ts says which calls count). Together: every store call a run's life
 * makes, cut before it reaches the database, after it committed, and for a write, in between.
 */
const KILL_POINTS = [
  // A run's lone db.update (the first run to write) and its db.transaction.
  'documents.transaction:before:1',
  'documents.transaction:inside:1',
  'documents.transaction:after:1',
  `documents.transaction:inside:3:${TRANSACTION}`,
  `documents.transaction:after:3:${TRANSACTION}`,
  // Later in the stream, whichever write it is, with others in flight.
  'documents.transaction:after:17',
  // The plain step after the writes.
  'saveStep:before:2:after',
  'saveStep:after:2:after',
  // The run's end.
  'settle:before:3',
  'settle:after:3',
  // The event that starts it (the sender dies: the next worker sends again), and its lease.
  'publish:before:5',
  'publish:after:5',
  'claim:after:1',
]

/** Every k of every point instead (minutes, for a bug hunt): EXACTLY_ONCE_SWEEP=1. */
const SWEEP = [
  ...['before', 'inside', 'after'].flatMap((when) =>
    range(1, 2 * N + 1).map((k) => `documents.transaction:${when}:${k}`),
  ),
  ...['saveStep', 'settle', 'publish'].flatMap((method) =>
    ['before', 'after'].flatMap((when) => range(1, N + 1).map((k) => `${method}:${when}:${k}`)),
  ),
  ...range(1, 4).map((k) => `claim:after:${k}`),
]

beforeAll(announcePostgresSkip)

const WORKER = fileURLToPath(new URL('./fixtures/exactly-once/worker.ts', import.meta.url))

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
}

/** Run the worker to its end (or death). */
function runWorker(where: string, env: Readonly<Record<string, string>>): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, where, String(N)], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, LEASE_MS, ...env },
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })))
}

/** What breaks "each write once": empty when every check holds. */
async function violations(rt: Runtime): Promise<string[]> {
  const found: string[] = []
  const check = (ok: boolean, what: string) => {
    if (!ok) found.push(what)
  }
  const runs = await rt.runs.list({ limit: N * 3 })
  check(runs.length === N, `${runs.length} runs, not ${N}`)
  const unfinished = runs.filter((r) => r.status !== 'completed')
  check(unfinished.length === 0, `runs not completed: ${unfinished.map((r) => `${r.id} ${r.status}`).join(', ')}`)
  const inputs = runs.map((r) => (r.input as { n: number }).n).sort((a, b) => a - b)
  check(same(inputs, range(0, N)), `run inputs ${inputs}`)
  // The events: each item's once, and the writes' own (committed with them) once per write.
  const events = await rt.store.eventsAfter(undefined, 0, N * 10)
  const tally = (name: string) => events.filter((e) => e.name === name).length
  const expected = {
    'Counter.created': 1,
    'Pair.created': 1,
    'Counter.bumped': N,
    'Counter.updated': 2 * N,
    'Entry.created': N,
  }
  const seen = Object.fromEntries(Object.keys(expected).map((name) => [name, tally(name)]))
  check(same(seen, expected) && events.length === 2 + 4 * N, `events ${JSON.stringify(seen)} of ${events.length}`)
  const dead = await rt.dlq.list()
  check(dead.length === 0, `dead letters: ${dead.map((d) => `${d.runId} ${d.error.message}`).join('; ')}`)

  const counter = await rt.db.get<Counter>('Counter', 'c')
  check(counter?.n === N, `counter n is ${counter?.n}, not ${N}`)
  check(counter?.t === N, `counter t is ${counter?.t}, not ${N}`)
  check(counter?.$version === 1 + 2 * N, `counter written ${(counter?.$version ?? 1) - 1} times, not ${2 * N}`)
  const entries = (await rt.db.list<{ n: number }>('Entry', { limit: N * 3 })).map((e) => e.n).sort((a, b) => a - b)
  check(same(entries, range(0, N)), `entries for items ${entries}, not 0..${N - 1} once each`)

  // Each run's durable writes are recorded, and what they returned (the counter after each
  // increment) is 1..N once each across the runs.
  const bumped: number[] = []
  const totals: number[] = []
  for (const run of runs) {
    const steps = (await rt.runs.get(run.id))?.steps ?? []
    const keys = steps.map((s) => s.key).sort()
    check(
      keys.length === 3 &&
        keys[0]?.startsWith(TRANSACTION) === true &&
        keys[1]?.startsWith(UPDATE) === true &&
        keys[2] === 'after',
      `run ${run.id} recorded steps ${keys.join(', ')}`,
    )
    const result = (key: string) => steps.find((s) => s.key.startsWith(key))?.result
    const n = (result(UPDATE) as Counter | undefined)?.n
    const t = result(TRANSACTION) as number | undefined
    if (n !== undefined) bumped.push(n)
    if (t !== undefined) totals.push(t)
    const emitted = events.filter((e) => e.sourceRunId === run.id).map((e) => e.name)
    check(
      same(emitted, ['Counter.updated', 'Counter.updated', 'Entry.created']),
      `run ${run.id} emitted ${emitted.join(', ')}`,
    )
    const after = result('after') as { n: number; bumped: number; t: number } | undefined
    check(
      after?.bumped === n && after?.t === t,
      `run ${run.id}: step "after" saw ${JSON.stringify(after)}, the writes recorded n=${n} t=${t}`,
    )
  }
  bumped.sort((a, b) => a - b)
  totals.sort((a, b) => a - b)
  check(same(bumped, range(1, N + 1)), `recorded update results (n) ${bumped}, not 1..${N} once each`)
  check(same(totals, range(1, N + 1)), `recorded transaction results (t) ${totals}, not 1..${N} once each`)
  return found
}

/** The same checks for `Pair.bumped`: each branch's write once. */
async function pairViolations(rt: Runtime): Promise<string[]> {
  const found: string[] = []
  const check = (ok: boolean, what: string) => {
    if (!ok) found.push(what)
  }
  const runs = await rt.runs.list({ limit: N * 3 })
  check(runs.length === N, `${runs.length} runs, not ${N}`)
  const unfinished = runs.filter((r) => r.status !== 'completed')
  check(unfinished.length === 0, `runs not completed: ${unfinished.map((r) => `${r.id} ${r.status}`).join(', ')}`)
  const dead = await rt.dlq.list()
  check(dead.length === 0, `dead letters: ${dead.map((d) => `${d.runId} ${d.error.message}`).join('; ')}`)
  const pair = await rt.db.get<Pair>('Pair', 'p')
  check(pair?.a === N && pair?.b === N, `pair a=${pair?.a} b=${pair?.b}, not ${N} each`)
  const as: number[] = []
  const bs: number[] = []
  for (const run of runs) {
    const steps = (await rt.runs.get(run.id))?.steps ?? []
    const keys = steps.map((s) => s.key).sort()
    check(
      same(keys, [PAIR_A, PAIR_B, 'after', 'fast', 'slow'].sort()),
      `run ${run.id} recorded steps ${keys.join(', ')}`,
    )
    const after = steps.find((s) => s.key === 'after')?.result as { a: number; b: number } | undefined
    if (after) as.push(after.a)
    if (after) bs.push(after.b)
  }
  as.sort((a, b) => a - b)
  bs.sort((a, b) => a - b)
  check(same(as, range(1, N + 1)), `the first branches' writes returned a=${as}, not 1..${N} once each`)
  check(same(bs, range(1, N + 1)), `the second branches' writes returned b=${bs}, not 1..${N} once each`)
  return found
}

const stores = [
  { name: 'sqlite', where: async () => tempFile('exactly-once.db') },
  ...(POSTGRES_URL ? [{ name: 'postgres', where: () => freshPostgresUrl() }] : []),
]

describe.each(stores)('kill -9 around a run’s db writes on $name', ({ where: make }) => {
  /**
   * Workers one after the other, each with its env, each of which must die at its kill point;
   * then `recoverers` workers side by side, without one, which must finish. What broke.
   */
  async function crashAndRecover(
    kills: readonly Readonly<Record<string, string>>[],
    { recoverers = 1, event = 'Counter.bumped' } = {},
  ): Promise<string[]> {
    const where = await make()
    for (const env of kills) {
      const killed = await runWorker(where, { ...env, EVENT: event })
      expect(killed.signal, killed.output).toBe('SIGKILL')
      expect(killed.output).toContain(`killing at ${env.KILL_AT}`)
    }
    const survivors = await Promise.all(range(0, recoverers).map(() => runWorker(where, { EVENT: event })))
    for (const survivor of survivors) expect(survivor.code, survivor.output).toBe(0)
    const rt = await createRuntime({
      business: exactlyOnce(),
      store: where.startsWith('postgres') ? postgres({ url: where }) : sqlite({ file: where }),
      logger: jsonLogger({ level: 'silent' }),
    })
    try {
      return await (event === 'Pair.bumped' ? pairViolations(rt) : violations(rt))
    } finally {
      await rt.stop()
    }
  }

  it.each(process.env.EXACTLY_ONCE_SWEEP === '1' ? SWEEP : KILL_POINTS)(
    'writes once when killed at %s',
    async (point) => {
      expect(await crashAndRecover([{ KILL_AT: point }])).toEqual([])
    },
    60_000,
  )

  it.each([
    // The second worker dies too, replaying: at its first write, and after a transaction.
    ['documents.transaction:after:3', 'documents.transaction:inside:1'],
    ['settle:before:2', `documents.transaction:after:4:${TRANSACTION}`],
  ])(
    'writes once when killed at %s, then again at %s',
    async (first, second) => {
      expect(await crashAndRecover([{ KILL_AT: first }, { KILL_AT: second }])).toEqual([])
    },
    60_000,
  )

  it.each(['documents.transaction:inside:5', 'claim:after:1'])(
    'writes once when killed at %s and two workers take over at once',
    async (point) => {
      expect(await crashAndRecover([{ KILL_AT: point }], { recoverers: 2 })).toEqual([])
    },
    60_000,
  )

  it.each(['documents.transaction:inside:5'])(
    'writes once when a worker of another machine is killed at %s (its leases expire)',
    async (point) => {
      expect(await crashAndRecover([{ KILL_AT: point, FOREIGN: '1' }])).toEqual([])
    },
    60_000,
  )

  it('would catch a write committed apart from its step record (emulated)', async () => {
    // Killed after the first write committed alone, before its step was recorded: the replay
    // applies that $inc again.
    const broken = await crashAndRecover([{ KILL_AT: 'documents.transaction:after:1', SPLIT_COMMITS: '1' }])
    expect(broken).toContain(`counter n is ${N + 1}, not ${N}`)
  }, 60_000)

  // Parallel branches reach their writes in another order on a replay (stored steps answer at
  // once). When a write's key was its position in the run (`$db#n`), a write got another
  // branch's key and stored result: the first branch's write was never applied and the second's
  // applied twice. Keys say what a write writes now (run-context.ts durableWrite).
  it('writes once in parallel branches when killed between them', async () => {
    // The second branch's write committed; killed before the first branch's.
    expect(
      await crashAndRecover([{ KILL_AT: `documents.transaction:before:1:${PAIR_A}` }], { event: 'Pair.bumped' }),
    ).toEqual([])
  }, 60_000)
})
