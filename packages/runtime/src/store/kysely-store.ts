/**
 * The `Store` on kysely, shared by the SQLite and PostgreSQL stores: they differ only in how
 * they connect and in claiming (PostgreSQL adds `FOR UPDATE SKIP LOCKED`, so concurrent
 * workers claim disjoint runs; SQLite serialises writers anyway).
 *
 * @example
 * new KyselyStore({ kind: 'sqlite', db, where: '.bac/dev.db' })
 */

import { matches } from '@bac/sdk/internal'
import { type ExpressionBuilder, type Insertable, type Kysely, type Selectable, sql } from 'kysely'
import { decode, encode } from '../codec.ts'
import { insideTransaction, notInTransaction } from '../db/transaction-context.ts'
import { chunks, dropKeys, writtenSince } from './cache-sql.ts'
import { KyselyDeployments } from './deployments.ts'
import { KyselyDocuments } from './documents.ts'
import { migrate } from './migrations.ts'
import type { Database, DeadLettersTable, EventsTable, RunsTable, SchedulesTable } from './schema.ts'
import {
  type CacheStore,
  type ClaimRequest,
  type DeadLetterRecord,
  type DeploymentStore,
  type DocumentStore,
  type EventRecord,
  FINAL_STATUSES,
  type Isolation,
  type NewEvent,
  type NewRun,
  type RunKind,
  type RunQuery,
  type RunRecord,
  type RunSettlement,
  type RunStatus,
  type ScheduleRecord,
  type StateStore,
  type StepRecord,
  type Store,
  type StoreStats,
  type Wait,
} from './store.ts'

/** `available_at` of a run that waits for a wake-up rather than a time. */
export const NEVER = Number.MAX_SAFE_INTEGER

function toRun(row: Selectable<RunsTable>): RunRecord {
  return {
    id: row.id,
    kind: row.kind as RunKind,
    name: row.name,
    status: row.status as RunStatus,
    input: decode(row.input),
    ...(row.result === null ? {} : { result: decode(row.result) }),
    ...(row.error === null ? {} : { error: JSON.parse(row.error) }),
    ...(row.event_id === null ? {} : { eventId: row.event_id }),
    ...(row.parent_id === null ? {} : { parentId: row.parent_id }),
    ...(row.idempotency_key === null ? {} : { idempotencyKey: row.idempotency_key }),
    ...(row.concurrency_key === null ? {} : { concurrencyKey: row.concurrency_key }),
    priority: row.priority,
    attempt: row.attempt,
    failures: row.failures,
    availableAt: row.available_at,
    ...(row.lease_owner === null ? {} : { leaseOwner: row.lease_owner }),
    ...(row.lease_expires_at === null ? {} : { leaseExpiresAt: row.lease_expires_at }),
    waits: row.wait === null ? [] : (JSON.parse(row.wait) as Wait[]),
    history: JSON.parse(row.history),
    ...(row.version === null ? {} : { version: row.version }),
    ...(row.correlation_id === null ? {} : { correlationId: row.correlation_id }),
    ...(row.trace === null ? {} : { trace: row.trace }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
  }
}

function runRow(run: NewRun, now: number): Insertable<RunsTable> {
  const leased = run.leaseOwner !== undefined
  return {
    id: run.id,
    kind: run.kind,
    name: run.name,
    status: leased ? 'running' : 'pending',
    input: encode(run.input),
    event_id: run.eventId ?? null,
    parent_id: run.parentId ?? null,
    idempotency_key: run.idempotencyKey ?? null,
    concurrency_key: run.concurrencyKey ?? null,
    priority: run.priority ?? 0,
    attempt: leased ? 1 : 0,
    failures: 0,
    available_at: run.availableAt,
    lease_owner: run.leaseOwner ?? null,
    lease_expires_at: run.leaseExpiresAt ?? null,
    history: '[]',
    version: run.version ?? null,
    correlation_id: run.correlationId ?? null,
    trace: run.trace ?? null,
    debounce_key: run.debounce?.key ?? null,
    created_at: now,
    updated_at: now,
    started_at: leased ? now : null,
  }
}

/**
 * Insert runs; a debounced one instead refreshes the not-yet-started run with its key: newest
 * input, pushed back to its `availableAt` but no later than `maxWait` after the first event.
 * Debounced runs of one write (a batch of events) merge with each other too. On PostgreSQL a
 * lock per (name, key) keeps concurrent publishers from each inserting a run, and the refresh
 * only touches a run that is still unclaimed — a run claimed meanwhile keeps its input, and
 * the newer event gets a run of its own.
 */
async function insertRuns(
  tx: Kysely<Database>,
  runs: readonly NewRun[],
  now: number,
  postgres: boolean,
): Promise<void> {
  const plain: NewRun[] = []
  const fresh = new Map<string, NewRun>()
  for (const run of runs) {
    const debounce = run.debounce
    if (!debounce) {
      plain.push(run)
      continue
    }
    const capped = (firstAt: number) =>
      debounce.maxWait === undefined ? run.availableAt : Math.min(run.availableAt, firstAt + debounce.maxWait)
    const id = JSON.stringify([run.name, debounce.key])
    const earlier = fresh.get(id)
    if (earlier) {
      fresh.set(id, {
        ...earlier,
        input: run.input,
        ...(run.eventId ? { eventId: run.eventId } : {}),
        ...(run.trace ? { trace: run.trace } : {}),
        availableAt: capped(now),
      })
      continue
    }
    if (postgres) await sql`select pg_advisory_xact_lock(${DEBOUNCE_LOCK_CLASS}, hashtext(${id}))`.execute(tx)
    const waiting = await tx
      .selectFrom('bac_runs')
      .select(['id', 'created_at'])
      .where('name', '=', run.name)
      .where('debounce_key', '=', debounce.key)
      .where('status', 'in', ['pending', 'waiting'])
      .where('attempt', '=', 0)
      .executeTakeFirst()
    if (waiting) {
      const refreshed = await tx
        .updateTable('bac_runs')
        .set({
          input: encode(run.input),
          event_id: run.eventId ?? null,
          trace: run.trace ?? null,
          available_at: capped(waiting.created_at),
          updated_at: now,
        })
        .where('id', '=', waiting.id)
        .where('status', 'in', ['pending', 'waiting'])
        .where('attempt', '=', 0)
        .executeTakeFirst()
      if (Number(refreshed.numUpdatedRows) > 0) continue
    }
    fresh.set(id, run)
  }
  plain.push(...fresh.values())
  for (const chunk of chunks(plain, 50)) {
    await tx
      .insertInto('bac_runs')
      .values(chunk.map((r) => runRow(r, now)))
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
}

function toEvent(row: Selectable<EventsTable>): EventRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    name: row.name,
    payload: decode(row.payload),
    ...(row.idempotency_key === null ? {} : { idempotencyKey: row.idempotency_key }),
    ...(row.correlation_id === null ? {} : { correlationId: row.correlation_id }),
    ...(row.source_run_id === null ? {} : { sourceRunId: row.source_run_id }),
    createdAt: row.created_at,
  }
}

const toSchedule = (row: Selectable<SchedulesTable>): ScheduleRecord => ({
  name: row.name,
  cron: row.cron,
  ...(row.timezone === null ? {} : { timezone: row.timezone }),
  nextAt: row.next_at,
  ...(row.last_fired_at === null ? {} : { lastFiredAt: row.last_fired_at }),
  missed: row.missed,
  active: row.active === 1,
})

const toDeadLetter = (row: Selectable<DeadLettersTable>): DeadLetterRecord => ({
  id: row.id,
  runId: row.run_id,
  kind: row.kind as RunKind,
  name: row.name,
  payload: decode(row.payload),
  error: JSON.parse(row.error),
  attempts: JSON.parse(row.attempts),
  createdAt: row.created_at,
})

/** Runs pinned to one of these definition versions (`null`: unpinned runs). */
function pinnedTo(versions: readonly (string | null)[]) {
  const named = versions.filter((v): v is string => v !== null)
  return (eb: ExpressionBuilder<Database, 'bac_runs'>) =>
    eb.or([
      ...(named.length > 0 ? [eb('version', 'in', named)] : []),
      ...(versions.includes(null) ? [eb('version', 'is', null)] : []),
    ])
}

/** Advisory lock publishers share and event waiters take alone (PostgreSQL), see `serializeWaits`. */
const EVENT_WAITS_LOCK = 7_219_455_001
/** Advisory lock deploys and rollbacks take in turn (PostgreSQL). */
const DEPLOYMENTS_LOCK = 7_219_455_002
/** The class (first key) of the per-(name, key) debounce locks: 'bac' + 1. */
const DEBOUNCE_LOCK_CLASS = 0x62_61_63_01

/**
 * On PostgreSQL (READ COMMITTED) a waiter checking "has it happened?" and a publisher or child
 * waking "who waits?" could each miss the other's uncommitted write. Make them take turns: an
 * event waiter takes the lock publishers share; a parent locks the child's row, which the
 * child's settle updates. Whoever commits second sees the first.
 */
async function serializeWaits(tx: Kysely<Database>, waits: readonly Wait[]): Promise<void> {
  if (waits.some((w) => w.kind === 'event')) await sql`select pg_advisory_xact_lock(${EVENT_WAITS_LOCK})`.execute(tx)
  const children = waits.flatMap((w) => (w.kind === 'run' ? [w.runId] : [])).sort()
  if (children.length > 0) await tx.selectFrom('bac_runs').select('id').where('id', 'in', children).forShare().execute()
}

/** Make runs waiting on these keys runnable now; how many it woke. */
async function wakeKeys(db: Kysely<Database>, keys: readonly string[], now: number): Promise<number> {
  if (keys.length === 0) return 0
  const woken = await db
    .updateTable('bac_runs')
    .set({ available_at: now, updated_at: now })
    .where('status', '=', 'waiting')
    .where('available_at', '>', now)
    .where('id', 'in', (eb) => eb.selectFrom('bac_waits').select('run_id').where('key', 'in', keys))
    .executeTakeFirst()
  return Number(woken.numUpdatedRows)
}

/** A saga's attempt of an action or compensation, as its run stores it (`compensate:release#2`). */
const SAGA_ATTEMPT = /^(action|compensate):.*#\d+$/

/**
 * A replay retries what failed. A saga stores its failed attempts (they replay as the same
 * failure): set them aside, so the replayed saga goes past them to new attempts with a fresh
 * budget — new attempts call new child runs, so the failed ones stay as they are.
 */
async function setAsideFailures(tx: Kysely<Database>, sagaIds: readonly string[]): Promise<void> {
  if (sagaIds.length === 0) return
  const steps = await tx
    .selectFrom('bac_steps')
    .select(['run_id', 'key', 'result'])
    .where('run_id', 'in', sagaIds)
    .execute()
  for (const step of steps) {
    const result = decode(step.result) as { ok?: unknown } | null
    if (!SAGA_ATTEMPT.test(step.key) || result?.ok !== false) continue
    await tx
      .updateTable('bac_steps')
      .set({ result: encode({ ...result, setAside: true }) })
      .where('run_id', '=', step.run_id)
      .where('key', '=', step.key)
      .execute()
  }
}

/** Whether something a run waits for has already happened: its child is final, or a matching event came. */
async function happened(db: Kysely<Database>, waits: readonly Wait[]): Promise<boolean> {
  for (const wait of waits) {
    if (wait.kind === 'run') {
      const child = await db.selectFrom('bac_runs').select('status').where('id', '=', wait.runId).executeTakeFirst()
      if (child && (FINAL_STATUSES as readonly string[]).includes(child.status)) return true
    }
    if (wait.kind === 'event') {
      const exact = !wait.pattern.includes('*')
      for (let after = wait.afterSeq; ; ) {
        let q = db.selectFrom('bac_events').select(['seq', 'name']).where('seq', '>', after)
        if (exact) q = q.where('name', '=', wait.pattern)
        const page = await q.orderBy('seq').limit(500).execute()
        if (page.some((e) => matches(wait.pattern, e.name))) return true
        if (page.length < 500) break
        after = Number(page.at(-1)?.seq ?? after)
      }
    }
  }
  return false
}

/** The key a waiting run is woken by: an event pattern, or `run:<id>` for a child. */
export function waitKey(wait: Wait): string | null {
  if (wait.kind === 'event') return wait.pattern
  if (wait.kind === 'run') return `run:${wait.runId}`
  return null
}

/** The event patterns that match an event name: `A.b` → `A.b`, `A.*`, `*.b`, `*`. */
export function patternsFor(name: string): string[] {
  const parts = name.split('.')
  const out = new Set<string>(['*'])
  for (let mask = 0; mask < 1 << parts.length; mask++) {
    out.add(parts.map((part, i) => (mask & (1 << i) ? '*' : part)).join('.'))
  }
  return [...out]
}

/** Record a finished step with its encoded result; `false` when it was recorded already (the first stays). */
async function insertStep(db: Kysely<Database>, step: Omit<StepRecord, 'result'>, encoded: string): Promise<boolean> {
  const inserted = await db
    .insertInto('bac_steps')
    .values({
      run_id: step.runId,
      key: step.key,
      result: encoded,
      started_at: step.startedAt,
      finished_at: step.finishedAt,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('key')
    .executeTakeFirst()
  return inserted !== undefined
}

export interface KyselyStoreOptions {
  readonly kind: 'sqlite' | 'postgres'
  readonly db: Kysely<Database>
  /** Where the database is, for messages (never with a password). */
  readonly where: string
  readonly listen?: Store['listen']
  readonly beforeMigrate?: () => Promise<void>
}

export class KyselyStore implements Store {
  readonly kind: 'sqlite' | 'postgres'
  readonly documents: DocumentStore
  readonly deployments: DeploymentStore
  readonly listen?: Store['listen']
  private readonly db: Kysely<Database>
  private readonly where: string
  private readonly beforeMigrate?: () => Promise<void>

  constructor(options: KyselyStoreOptions) {
    this.kind = options.kind
    this.db = options.db
    this.where = options.where
    if (options.listen) this.listen = options.listen
    if (options.beforeMigrate) this.beforeMigrate = options.beforeMigrate
    this.deployments = new KyselyDeployments(
      this.db,
      // Deploys and rollbacks take turns (PostgreSQL): two activations at once would each clear
      // the active flag they saw and leave two versions active.
      (job) =>
        this.write(async (tx) => {
          if (this.kind === 'postgres') await sql`select pg_advisory_xact_lock(${DEPLOYMENTS_LOCK})`.execute(tx)
          return job(tx)
        }),
      (tx) => this.notify(tx, 'bac_deploy'),
    )
    this.documents = new KyselyDocuments(this.db, this.kind, {
      write: (job, options) => this.write(job, options),
      insertEvents: (tx, deliveries) => this.insertEvents(tx, deliveries),
      insertStep: (tx, step, encoded) => insertStep(tx, step, encoded),
      storedStep: (runId, key) => this.storedStep(runId, key),
    })
  }

  readonly state: StateStore = {
    get: async <T>(scope: string, key: string) => {
      const row = await this.db
        .selectFrom('bac_state')
        .select('value')
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirst()
      return row ? (JSON.parse(row.value) as T) : undefined
    },
    list: async <T>(scope: string) =>
      (
        await this.db
          .selectFrom('bac_state')
          .select(['key', 'value'])
          .where('scope', '=', scope)
          .orderBy('key')
          .execute()
      ).map((r) => ({
        key: r.key,
        value: JSON.parse(r.value) as T,
      })),
    update: <T, R>(
      scope: string,
      key: string,
      change: (current: T | undefined) => { value: T; result: R },
      now: number,
    ) =>
      this.write(async (tx) => {
        // Make sure the row exists, so FOR UPDATE has something to lock: two workers updating a
        // new key (a first rate-limit token) must not both start from nothing.
        if (this.kind === 'postgres') {
          await tx
            .insertInto('bac_state')
            .values({ scope, key, value: 'null', updated_at: now })
            .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
            .execute()
        }
        let read = tx.selectFrom('bac_state').select('value').where('scope', '=', scope).where('key', '=', key)
        if (this.kind === 'postgres') read = read.forUpdate()
        const row = await read.executeTakeFirst()
        const { value, result } = change((row ? JSON.parse(row.value) : null) ?? undefined)
        const text = JSON.stringify(value)
        await tx
          .insertInto('bac_state')
          .values({ scope, key, value: text, updated_at: now })
          .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({ value: text, updated_at: now }))
          .execute()
        return result
      }),
  }

  readonly cache: CacheStore = {
    get: async (key, now) => {
      const row = await this.db
        .selectFrom('bac_cache')
        .select(['value', 'expires_at'])
        .where('key', '=', key)
        .executeTakeFirst()
      return row && row.expires_at > now ? { value: decode(row.value), expiresAt: Number(row.expires_at) } : undefined
    },
    set: async (key, value, expiresAt, tags, guard) => {
      const text = encode(value)
      return this.write(async (tx) => {
        if (guard && (await writtenSince(tx, guard.types, guard.since, guard.now, this.kind === 'postgres')))
          return false
        await tx
          .insertInto('bac_cache')
          .values({ key, value: text, expires_at: expiresAt })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: text, expires_at: expiresAt }))
          .execute()
        await tx.deleteFrom('bac_cache_tags').where('key', '=', key).execute()
        if (tags.length > 0)
          await tx
            .insertInto('bac_cache_tags')
            .values(tags.map((tag) => ({ tag, key })))
            .onConflict((oc) => oc.doNothing())
            .execute()
        return true
      })
    },
    invalidate: async ({ keys = [], pattern, tags = [] }) => {
      // Found with plain reads first: a db write invalidates its tags every time, and most
      // of the time nothing is cached under them — no write transaction for nothing.
      const found = new Set(keys)
      if (pattern !== undefined) {
        const like = pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%')
        const rows = await this.db
          .selectFrom('bac_cache')
          .select('key')
          .where(sql<boolean>`key like ${like} escape '\\'`)
          .execute()
        for (const row of rows) found.add(row.key)
      }
      if (tags.length > 0) {
        for (const row of await this.db.selectFrom('bac_cache_tags').select('key').where('tag', 'in', tags).execute())
          found.add(row.key)
      }
      if (found.size === 0) return []
      return this.write((tx) => dropKeys(tx, [...found]))
    },
  }

  async stats(now: number): Promise<StoreStats> {
    const count = async (status: RunStatus, due?: boolean) => {
      const row = await this.db
        .selectFrom('bac_runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', status)
        .$if(due === true, (q) => q.where('available_at', '<=', now))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    }
    const letters = await this.db
      .selectFrom('bac_dead_letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    const oldest = await this.db
      .selectFrom('bac_runs')
      .select((eb) => eb.fn.min<number>('available_at').as('at'))
      .where('status', 'in', ['pending', 'waiting'])
      .where('available_at', '<=', now)
      .executeTakeFirst()
    // A run whose worker died is due again from the moment its lease ran out.
    const orphaned = await this.db
      .selectFrom('bac_runs')
      .select((eb) => eb.fn.min<number>('lease_expires_at').as('at'))
      .where('status', '=', 'running')
      .where('lease_expires_at', '<=', now)
      .executeTakeFirst()
    const dueSince = [oldest?.at, orphaned?.at].filter((at) => at !== null && at !== undefined).map(Number)
    return {
      runnable: (await count('pending', true)) + (await count('waiting', true)),
      waiting: await count('waiting'),
      running: await count('running'),
      deadLetters: Number(letters.n),
      ...(dueSince.length > 0 ? { oldestDueAt: Math.min(...dueSince) } : {}),
    }
  }

  async open(): Promise<void> {
    await this.beforeMigrate?.()
    await migrate(this.db as Kysely<unknown>, this.kind, this.where)
  }

  async close(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) await this.flushing
    await this.db.destroy()
  }

  /**
   * Tell other workers (PostgreSQL LISTEN) there may be work: sent with the transaction and
   * delivered at its commit, so they never look before it is visible.
   */
  private async notify(tx: Kysely<Database>, channel: 'bac_work' | 'bac_deploy' = 'bac_work'): Promise<void> {
    if (this.kind === 'postgres') await sql`select pg_notify(${channel}, '')`.execute(tx)
  }

  /**
   * Before storing events, on PostgreSQL: take the lock publishers share (see `serializeWaits`)
   * and, in the same statement, queue the notification other workers hear at commit. (A
   * duplicate event then notifies for nothing; a statement per event is worth more.)
   */
  private async lockForPublish(tx: Kysely<Database>, notify = true): Promise<void> {
    if (this.kind !== 'postgres') return
    if (notify)
      await sql`select pg_advisory_xact_lock_shared(${EVENT_WAITS_LOCK}), pg_notify('bac_work', '')`.execute(tx)
    else await sql`select pg_advisory_xact_lock_shared(${EVENT_WAITS_LOCK})`.execute(tx)
  }

  private readonly queue: {
    job: (tx: Kysely<Database>) => Promise<unknown>
    resolve: (v: unknown) => void
    reject: (e: unknown) => void
    /** It runs user code: it commits alone (see `flush`). */
    alone: boolean
  }[] = []
  private flushing: Promise<void> | undefined

  /**
   * Run a write in a transaction. On SQLite, writes that arrive together share one
   * transaction — one commit, one fsync for many runs — each in its own savepoint, so one
   * failing write rolls back only itself; every caller resolves after the shared commit.
   * PostgreSQL commits each on its own (its server does its own group commit).
   */
  private write<T>(
    job: (tx: Kysely<Database>) => Promise<T>,
    { isolation, alone = false }: { readonly isolation?: Isolation; readonly alone?: boolean } = {},
  ): Promise<T> {
    // A write from inside a db.transaction function that is not the transaction's own would
    // commit beside it (and on SQLite wait for it forever): refuse it, whatever made it.
    if (insideTransaction()) return Promise.reject(notInTransaction('a write outside the transaction'))
    if (this.kind !== 'sqlite') {
      const transaction = this.db.transaction()
      return (isolation ? transaction.setIsolationLevel(isolation) : transaction).execute(job)
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (v: unknown) => void, reject, alone })
      if (!this.flushing)
        this.flushing = new Promise<void>((done) => setImmediate(() => void this.flush().finally(done)))
    })
  }

  /**
   * A write of one statement, atomic by itself: on PostgreSQL sent on its own, without the
   * BEGIN and COMMIT round trips of a transaction; on SQLite, in the shared batch.
   */
  private writeOne<T>(statement: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.kind === 'postgres' ? statement(this.db) : this.write(statement)
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      // A job that runs user code (db.transaction) commits alone: the code may await a write
      // begun before it, which resolves only once its own batch has committed.
      const next = this.queue.findIndex((entry) => entry.alone)
      const batch = this.queue.splice(0, next === 0 ? 1 : next === -1 ? this.queue.length : next)
      const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = []
      try {
        await this.db.connection().execute(async (conn) => {
          // IMMEDIATE takes the write lock up front: a batch that reads before it writes cannot
          // fail half-way with SQLITE_BUSY_SNAPSHOT when another connection commits in between.
          await sql`begin immediate`.execute(conn)
          try {
            for (const { job } of batch) {
              await sql`savepoint bac_write`.execute(conn)
              try {
                outcomes.push({ ok: true, value: await job(conn) })
                await sql`release savepoint bac_write`.execute(conn)
              } catch (error) {
                await sql`rollback to savepoint bac_write`.execute(conn)
                await sql`release savepoint bac_write`.execute(conn)
                outcomes.push({ ok: false, error })
              }
            }
            await sql`commit`.execute(conn)
          } catch (error) {
            await sql`rollback`.execute(conn).catch(() => {})
            throw error
          }
        })
      } catch (error) {
        for (const { reject } of batch) reject(error)
        continue
      }
      batch.forEach(({ resolve, reject }, i) => {
        const outcome = outcomes[i]
        if (outcome?.ok) resolve(outcome.value)
        else reject(outcome?.error)
      })
    }
    this.flushing = undefined
  }

  publish(event: NewEvent, runs: readonly NewRun[]) {
    return this.write((tx) => this.insertEvent(tx, event, runs))
  }

  /**
   * Store many events and their deliveries in `tx` in few statements (a write's outbox), then
   * wake runs waiting for any of them once. Events already stored (a replayed write) add nothing.
   */
  private async insertEvents(
    tx: Kysely<Database>,
    deliveries: readonly { readonly event: NewEvent; readonly runs: readonly NewRun[] }[],
  ): Promise<{ readonly stored: ReadonlySet<string>; readonly work: boolean }> {
    if (deliveries.length === 0) return { stored: new Set(), work: false }
    // Most document writes have no handler: no run to claim, so no worker to wake (a NOTIFY also
    // makes PostgreSQL order the commits of notifying transactions).
    const delivered = deliveries.some(({ runs }) => runs.length > 0)
    await this.lockForPublish(tx, delivered)
    const inserted = new Set<string>()
    for (const chunk of chunks(deliveries, 100)) {
      const rows = await tx
        .insertInto('bac_events')
        .values(
          chunk.map(({ event }) => ({
            id: event.id,
            name: event.name,
            payload: encode(event.payload),
            idempotency_key: event.idempotencyKey ?? null,
            correlation_id: event.correlationId ?? null,
            source_run_id: event.sourceRunId ?? null,
            created_at: event.createdAt,
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .execute()
      for (const row of rows) inserted.add(row.id)
    }
    const now = Math.max(...deliveries.map(({ event }) => event.createdAt))
    await insertRuns(
      tx,
      deliveries.filter(({ event }) => inserted.has(event.id)).flatMap(({ runs }) => runs),
      now,
      this.kind === 'postgres',
    )
    const names = new Set(deliveries.filter(({ event }) => inserted.has(event.id)).map(({ event }) => event.name))
    const woken = await wakeKeys(tx, [...new Set([...names].flatMap(patternsFor))], now)
    if (woken > 0 && !delivered) await this.notify(tx)
    return { stored: inserted, work: delivered || woken > 0 }
  }

  /** Store an event and its deliveries in `tx`, and wake runs waiting for it; a duplicate writes nothing. */
  private async insertEvent(
    tx: Kysely<Database>,
    event: NewEvent,
    runs: readonly NewRun[],
  ): Promise<{ readonly event: EventRecord; readonly duplicate: boolean }> {
    await this.lockForPublish(tx)
    const inserted = await tx
      .insertInto('bac_events')
      .values({
        id: event.id,
        name: event.name,
        payload: encode(event.payload),
        idempotency_key: event.idempotencyKey ?? null,
        correlation_id: event.correlationId ?? null,
        source_run_id: event.sourceRunId ?? null,
        created_at: event.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst()
    if (!inserted) {
      const key = event.idempotencyKey
      const first = await tx
        .selectFrom('bac_events')
        .selectAll()
        .where((eb) =>
          key === undefined
            ? eb('id', '=', event.id)
            : eb.or([eb('id', '=', event.id), eb.and([eb('name', '=', event.name), eb('idempotency_key', '=', key)])]),
        )
        .executeTakeFirstOrThrow()
      return { event: toEvent(first), duplicate: true }
    }
    await insertRuns(tx, runs, event.createdAt, this.kind === 'postgres')
    // In the same transaction, so no crash can come between the event and its wake-ups.
    await wakeKeys(tx, patternsFor(event.name), event.createdAt)
    return { event: toEvent(inserted), duplicate: false }
  }

  async enqueue(run: NewRun) {
    const now = run.availableAt
    const inserted = await this.write(async (tx) => {
      const row = await tx
        .insertInto('bac_runs')
        .values(runRow(run, now))
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst()
      // A run leased to its caller (inline) is nobody else's business.
      if (row && run.leaseOwner === undefined) await this.notify(tx)
      return row
    })
    if (inserted) return { run: toRun(inserted), duplicate: false }
    const first =
      (await this.getRun(run.id)) ??
      (run.idempotencyKey !== undefined ? await this.findRun(run.name, run.idempotencyKey) : undefined)
    if (!first) throw new Error(`run ${run.id} could not be stored and no earlier run conflicts with it`)
    return { run: first, duplicate: true }
  }

  claim(request: ClaimRequest): Promise<RunRecord[]> {
    const { owner, now, limit, leaseMs, limits, versions } = request
    if (limit <= 0) return Promise.resolve([])
    return this.write(async (tx) => {
      // Index-friendly queries rather than one with OR: due pending runs, due waiting runs (each
      // walks the (status, priority, available_at) index in order, so no sort of the backlog), and
      // runs whose lease expired (their worker died). All stay cheap however many runs there are.
      const take = limits && limits.size > 0 ? limit * 4 : limit
      // A worker claims only runs whose code it has: their pinned definition version is loaded here.
      const loaded = pinnedTo(versions ?? [])
      const due = (status: 'pending' | 'waiting') => {
        let q = tx
          .selectFrom('bac_runs')
          .select(['id', 'name', 'concurrency_key', 'priority', 'available_at'])
          .where('status', '=', status)
          .where('available_at', '<=', now)
          .$if(versions !== undefined, (qb) => qb.where(loaded))
          .orderBy('priority', 'desc')
          .orderBy('available_at')
          .limit(take)
        if (this.kind === 'postgres') q = q.forUpdate().skipLocked()
        return q.execute()
      }
      let expired = tx
        .selectFrom('bac_runs')
        .select(['id', 'name', 'concurrency_key', 'priority', 'available_at'])
        .where('status', '=', 'running')
        .where('lease_expires_at', '<=', now)
        .$if(versions !== undefined, (qb) => qb.where(loaded))
        .orderBy('lease_expires_at')
        .limit(take)
      if (this.kind === 'postgres') expired = expired.forUpdate().skipLocked()
      const rows = [...(await expired.execute()), ...(await due('pending')), ...(await due('waiting'))]
        .sort((a, b) => b.priority - a.priority || a.available_at - b.available_at)
        .slice(0, take)
      const chosen = await this.withinLimits(tx, rows, limit, now, limits)
      if (chosen.length === 0) return []
      const claimed = await tx
        .updateTable('bac_runs')
        .set((eb) => ({
          status: 'running',
          lease_owner: owner,
          lease_expires_at: now + leaseMs,
          attempt: eb('attempt', '+', 1),
          started_at: eb.fn.coalesce('started_at', sql.lit(now)),
          updated_at: now,
          wait: null,
        }))
        .where('id', 'in', chosen)
        .returningAll()
        .execute()
      const order = new Map(chosen.map((id, i) => [id, i]))
      return claimed.map(toRun).sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
    })
  }

  /** Candidates that fit their concurrency limits, counting runs other workers hold too. */
  private async withinLimits(
    tx: Kysely<Database>,
    rows: readonly { id: string; name: string; concurrency_key: string | null }[],
    limit: number,
    now: number,
    limits: ReadonlyMap<string, number> | undefined,
  ): Promise<string[]> {
    if (!limits || limits.size === 0) return rows.slice(0, limit).map((r) => r.id)
    const names = [...new Set(rows.map((r) => r.name).filter((name) => limits.has(name)))]
    const slot = (name: string, key: string | null) => `${name}\u0000${key ?? ''}`
    if (this.kind === 'postgres') {
      // Two workers counting the same slot under READ COMMITTED would each see room; take the
      // slot's lock first (held to commit), in a fixed order so claimers cannot deadlock.
      const slots = [
        ...new Set(rows.filter((r) => limits.has(r.name)).map((r) => `bac:${r.name}:${r.concurrency_key ?? ''}`)),
      ]
      for (const lock of slots.sort()) await sql`select pg_advisory_xact_lock(hashtext(${lock}))`.execute(tx)
    }
    const running = new Map<string, number>()
    if (names.length > 0) {
      const counts = await tx
        .selectFrom('bac_runs')
        .select(['name', 'concurrency_key', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', 'running')
        .where('lease_expires_at', '>', now)
        .where('name', 'in', names)
        .groupBy(['name', 'concurrency_key'])
        .execute()
      for (const c of counts) running.set(slot(c.name, c.concurrency_key), Number(c.n))
    }
    const chosen: string[] = []
    for (const row of rows) {
      if (chosen.length >= limit) break
      const max = limits.get(row.name)
      if (max !== undefined) {
        const key = slot(row.name, row.concurrency_key)
        const n = running.get(key) ?? 0
        if (n >= max) continue
        running.set(key, n + 1)
      }
      chosen.push(row.id)
    }
    return chosen
  }

  async renewLeases(owner: string, ids: readonly string[], until: number): Promise<string[]> {
    if (ids.length === 0) return []
    const renewed = await this.writeOne((db) =>
      db
        .updateTable('bac_runs')
        .set({ lease_expires_at: until })
        .where('id', 'in', ids)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .returning('id')
        .execute(),
    )
    return renewed.map((r) => r.id)
  }

  async releaseLeases(owner: string, ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return
    await this.write(async (tx) => {
      await tx
        .updateTable('bac_runs')
        .set({ status: 'pending', lease_owner: null, lease_expires_at: null, available_at: now, updated_at: now })
        .where('id', 'in', ids)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .execute()
      await this.notify(tx)
    })
  }

  async releaseOwners(owners: readonly string[], now: number): Promise<number> {
    if (owners.length === 0) return 0
    const result = await this.write(async (tx) => {
      const released = await tx
        .updateTable('bac_runs')
        .set({ status: 'pending', lease_owner: null, lease_expires_at: null, available_at: now, updated_at: now })
        .where('lease_owner', 'in', owners)
        .where('status', '=', 'running')
        .executeTakeFirst()
      await this.notify(tx)
      return released
    })
    return Number(result.numUpdatedRows)
  }

  async leaseOwners(now: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('bac_runs')
      .select('lease_owner')
      .distinct()
      .where('status', '=', 'running')
      .where('lease_expires_at', '>', now)
      .execute()
    return rows.map((r) => r.lease_owner).filter((o): o is string => o !== null)
  }

  settle(id: string, owner: string, s: RunSettlement): Promise<RunRecord | undefined> {
    const final = s.status === 'completed' || s.status === 'compensated' || s.status === 'failed'
    const waits = s.status === 'waiting' ? (s.waits ?? []) : []
    const changes = {
      status: s.status,
      ...(s.status === 'completed' || s.result !== undefined ? { result: encode(s.result) } : {}),
      ...(s.error ? { error: JSON.stringify(s.error) } : s.status === 'completed' ? { error: null } : {}),
      ...(s.availableAt === undefined ? {} : { available_at: s.availableAt }),
      wait: waits.length > 0 ? JSON.stringify(waits) : null,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: s.now,
      finished_at: final ? s.now : null,
    }
    return this.write(async (tx) => {
      let extra = {}
      let history: unknown[] | undefined
      let prior: { kind: string; name: string; input: string } | undefined
      if (s.failure || s.deadLetterId) {
        let read = tx
          .selectFrom('bac_runs')
          .select(['history', 'failures', 'kind', 'name', 'input'])
          .where('id', '=', id)
          .where('lease_owner', '=', owner)
          .where('status', '=', 'running')
        if (this.kind === 'postgres') read = read.forUpdate()
        const row = await read.executeTakeFirst()
        if (!row) return undefined
        history = s.failure ? [...JSON.parse(row.history), s.failure] : JSON.parse(row.history)
        prior = row
        extra = { failures: s.failure ? row.failures + 1 : row.failures, history: JSON.stringify(history) }
      }
      // Guarded by the lease: a worker that lost it changes nothing.
      const updated = await tx
        .updateTable('bac_runs')
        .set({ ...changes, ...extra })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .returningAll()
        .executeTakeFirst()
      if (!updated) return undefined
      await tx.deleteFrom('bac_waits').where('run_id', '=', id).execute()
      if (s.forgetSteps?.length)
        await tx.deleteFrom('bac_steps').where('run_id', '=', id).where('key', 'in', s.forgetSteps).execute()
      // Other workers need to hear of it only if a run waiting on this one (a caller) woke up;
      // a finished run otherwise makes nothing runnable that this worker will not claim itself.
      if (final && (await wakeKeys(tx, [`run:${id}`], s.now)) > 0) await this.notify(tx)
      let record = toRun(updated)
      if (waits.length > 0) {
        if (this.kind === 'postgres') await serializeWaits(tx, waits)
        const keys = [...new Set(waits.map(waitKey).filter((k): k is string => k !== null))]
        if (keys.length > 0)
          await tx
            .insertInto('bac_waits')
            .values(keys.map((key) => ({ key, run_id: id })))
            .execute()
        // What it waits for may have happened while it ran: then it is runnable now.
        if (record.availableAt > s.now && (await happened(tx, waits))) {
          await tx.updateTable('bac_runs').set({ available_at: s.now }).where('id', '=', id).execute()
          record = { ...record, availableAt: s.now }
        }
      }
      if (s.status === 'failed' && s.deadLetterId && prior) {
        await tx
          .insertInto('bac_dead_letters')
          .values({
            id: s.deadLetterId,
            run_id: id,
            kind: prior.kind,
            name: prior.name,
            payload: prior.input,
            error: JSON.stringify(s.error ?? { name: 'Error', message: 'failed' }),
            attempts: JSON.stringify(history ?? []),
            created_at: s.now,
          })
          .onConflict((oc) => oc.doNothing())
          .execute()
      }
      return record
    })
  }

  async sweepWaiting(now: number, limit = 500): Promise<number> {
    const rows = await this.db
      .selectFrom('bac_runs')
      .select(['id', 'wait'])
      .where('status', '=', 'waiting')
      .where('available_at', '>', now)
      .where('id', 'in', (eb) => eb.selectFrom('bac_waits').select('run_id'))
      .limit(limit)
      .execute()
    let woken = 0
    for (const row of rows) {
      const waits = row.wait === null ? [] : (JSON.parse(row.wait) as Wait[])
      if (!(await happened(this.db, waits))) continue
      const result = await this.write((tx) =>
        tx
          .updateTable('bac_runs')
          .set({ available_at: now, updated_at: now })
          .where('id', '=', row.id)
          .where('status', '=', 'waiting')
          .executeTakeFirst(),
      )
      woken += Number(result.numUpdatedRows)
    }
    return woken
  }

  async nextAvailableAt(): Promise<number | undefined> {
    // The smallest of three index lookups (an aggregate with filters would scan every run).
    const first = async (status: 'pending' | 'waiting' | 'running') => {
      const column = status === 'running' ? 'lease_expires_at' : 'available_at'
      const row = await this.db
        .selectFrom('bac_runs')
        .select(`${column} as at`)
        .where('status', '=', status)
        .where(column, 'is not', null)
        .orderBy(column)
        .limit(1)
        .executeTakeFirst()
      return row?.at ?? undefined
    }
    const times = (await Promise.all([first('pending'), first('waiting'), first('running')]))
      .filter((t): t is number => t !== null && t !== undefined)
      .map(Number)
    const next = times.length > 0 ? Math.min(...times) : undefined
    return next === undefined || next >= NEVER ? undefined : next
  }

  async hasRunnable(now: number, versions?: readonly (string | null)[]): Promise<boolean> {
    const loaded = pinnedTo(versions ?? [])
    const found = async (status: 'pending' | 'waiting' | 'running') => {
      const column = status === 'running' ? 'lease_expires_at' : 'available_at'
      const row = await this.db
        .selectFrom('bac_runs')
        .select('id')
        .where('status', '=', status)
        .where(column, '<=', now)
        .$if(versions !== undefined, (qb) => qb.where(loaded))
        .limit(1)
        .executeTakeFirst()
      return row !== undefined
    }
    return (await found('pending')) || (await found('waiting')) || (await found('running'))
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom('bac_runs').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toRun(row) : undefined
  }

  async findRun(name: string, idempotencyKey: string): Promise<RunRecord | undefined> {
    const row = await this.db
      .selectFrom('bac_runs')
      .selectAll()
      .where('name', '=', name)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst()
    return row ? toRun(row) : undefined
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    let q = this.db.selectFrom('bac_runs').selectAll()
    if (query.status) q = q.where('status', '=', query.status)
    if (query.name) q = q.where('name', '=', query.name)
    if (query.kind) q = q.where('kind', '=', query.kind)
    if (query.parentId) q = q.where('parent_id', '=', query.parentId)
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(query.limit ?? 100)
      .execute()
    return rows.map(toRun)
  }

  async steps(runId: string): Promise<StepRecord[]> {
    const rows = await this.db
      .selectFrom('bac_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('finished_at')
      .orderBy('key')
      .execute()
    return rows.map((row) => ({
      runId: row.run_id,
      key: row.key,
      result: decode(row.result),
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    }))
  }

  async saveStep(step: StepRecord): Promise<StepRecord> {
    const encoded = encode(step.result)
    if (await this.writeOne((db) => insertStep(db, step, encoded))) return { ...step, result: decode(encoded) }
    return (await this.storedStep(step.runId, step.key)) as StepRecord
  }

  private async storedStep(runId: string, key: string): Promise<StepRecord | undefined> {
    const row = await this.db
      .selectFrom('bac_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .executeTakeFirst()
    return row
      ? { runId, key, result: decode(row.result), startedAt: row.started_at, finishedAt: row.finished_at }
      : undefined
  }

  async getEvent(id: string): Promise<EventRecord | undefined> {
    const row = await this.db.selectFrom('bac_events').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toEvent(row) : undefined
  }

  async eventsAfter(names: readonly string[] | undefined, afterSeq: number, limit: number): Promise<EventRecord[]> {
    let q = this.db.selectFrom('bac_events').selectAll().where('seq', '>', afterSeq)
    if (names) q = q.where('name', 'in', names.length > 0 ? names : [''])
    const rows = await q.orderBy('seq').limit(limit).execute()
    return rows.map(toEvent)
  }

  async serverTime(): Promise<number> {
    // SQLite is a file on this machine: its clock is this one.
    if (this.kind !== 'postgres') return Date.now()
    const { rows } = await sql<{ ms: number }>`select extract(epoch from clock_timestamp()) * 1000 as ms`.execute(
      this.db,
    )
    return Number(rows[0]?.ms)
  }

  async lastEventSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('bac_events')
      .select((eb) => eb.fn.max<number>('seq').as('seq'))
      .executeTakeFirst()
    return Number(row?.seq ?? 0)
  }

  async listDeadLetters(limit = 100): Promise<DeadLetterRecord[]> {
    const rows = await this.db
      .selectFrom('bac_dead_letters')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute()
    return rows.map(toDeadLetter)
  }

  async getDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    const row = await this.db.selectFrom('bac_dead_letters').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toDeadLetter(row) : undefined
  }

  replayDeadLetter(id: string, now: number): Promise<RunRecord | undefined> {
    return this.write(async (tx) => {
      const letter = await tx.deleteFrom('bac_dead_letters').where('id', '=', id).returning('run_id').executeTakeFirst()
      if (!letter) return undefined
      const fresh = {
        status: 'pending',
        failures: 0,
        error: null,
        available_at: now,
        finished_at: null,
        lease_owner: null,
        lease_expires_at: null,
        updated_at: now,
      } as const
      const run = await tx
        .updateTable('bac_runs')
        .set(fresh)
        .where('id', '=', letter.run_id)
        .returningAll()
        .executeTakeFirst()
      // Operations it called that failed failed it: give them a fresh budget too, or the replay
      // would meet the same stored failure. (Their finished steps are kept.) A saga instead goes
      // past its failed attempts to new ones, which call new children.
      const replayed = run ? [{ id: run.id, kind: run.kind }] : []
      let parents = replayed.filter((r) => r.kind !== 'saga').map((r) => r.id)
      while (parents.length > 0) {
        const children = await tx
          .updateTable('bac_runs')
          .set(fresh)
          .where('parent_id', 'in', parents)
          .where('status', '=', 'failed')
          .returning(['id', 'kind'])
          .execute()
        replayed.push(...children)
        parents = children.filter((c) => c.kind !== 'saga').map((c) => c.id)
      }
      await setAsideFailures(
        tx,
        replayed.filter((r) => r.kind === 'saga').map((r) => r.id),
      )
      // A replayed child's own dead letter (one failure can file a letter per run it failed) is
      // covered by this replay: replaying it later would run the child again.
      await tx
        .deleteFrom('bac_dead_letters')
        .where(
          'run_id',
          'in',
          replayed.map((r) => r.id),
        )
        .execute()
      await this.notify(tx)
      return run ? toRun(run) : undefined
    })
  }

  discardDeadLetter(id: string, now: number): Promise<boolean> {
    return this.write(async (tx) => {
      const letter = await tx.deleteFrom('bac_dead_letters').where('id', '=', id).returning('run_id').executeTakeFirst()
      if (!letter) return false
      await tx
        .updateTable('bac_runs')
        .set({ status: 'discarded', updated_at: now })
        .where('id', '=', letter.run_id)
        .execute()
      return true
    })
  }

  syncSchedules(
    declared: readonly Omit<ScheduleRecord, 'missed' | 'active' | 'lastFiredAt'>[],
  ): Promise<ScheduleRecord[]> {
    return this.write(async (tx) => {
      const existing = new Map((await tx.selectFrom('bac_schedules').selectAll().execute()).map((r) => [r.name, r]))
      for (const schedule of declared) {
        const known = existing.get(schedule.name)
        const timezone = schedule.timezone ?? null
        if (known && known.cron === schedule.cron && known.timezone === timezone) {
          if (known.active !== 1) {
            await tx.updateTable('bac_schedules').set({ active: 1 }).where('name', '=', schedule.name).execute()
          }
          continue
        }
        await tx
          .insertInto('bac_schedules')
          .values({
            name: schedule.name,
            cron: schedule.cron,
            timezone,
            next_at: schedule.nextAt,
            missed: 0,
            active: 1,
          })
          .onConflict((oc) =>
            oc.column('name').doUpdateSet({ cron: schedule.cron, timezone, next_at: schedule.nextAt, active: 1 }),
          )
          .execute()
      }
      const names = declared.map((s) => s.name)
      let retire = tx.updateTable('bac_schedules').set({ active: 0 })
      if (names.length > 0) retire = retire.where('name', 'not in', names)
      await retire.execute()
      return (await tx.selectFrom('bac_schedules').selectAll().orderBy('name').execute()).map(toSchedule)
    })
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return (await this.db.selectFrom('bac_schedules').selectAll().orderBy('name').execute()).map(toSchedule)
  }

  fireSchedule(
    name: string,
    expectedNextAt: number,
    update: { readonly nextAt: number; readonly firedAt: number; readonly missed: number },
    run: NewRun,
  ): Promise<boolean> {
    return this.write(async (tx) => {
      const moved = await tx
        .updateTable('bac_schedules')
        .set((eb) => ({
          next_at: update.nextAt,
          last_fired_at: update.firedAt,
          missed: eb('missed', '+', update.missed),
        }))
        .where('name', '=', name)
        .where('next_at', '=', expectedNextAt)
        .where('active', '=', 1)
        .executeTakeFirst()
      if (Number(moved.numUpdatedRows) === 0) return false
      await tx
        .insertInto('bac_runs')
        .values(runRow(run, update.firedAt))
        .onConflict((oc) => oc.doNothing())
        .execute()
      await this.notify(tx)
      return true
    })
  }
}
