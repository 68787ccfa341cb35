/**
 * The `Store` port: the durable state of a business — events, runs, steps, schedules, dead
 * letters. It is the source of truth; in-process queues only cache it. Implementations:
 * SQLite (`sqlite()`, the embedded default) and PostgreSQL (`postgres()`, many workers on one
 * database), both through kysely and one shared implementation, tested by one contract suite.
 *
 * Values (payloads, inputs, results) go in and come out as JavaScript values; the store
 * encodes them (Dates, `undefined`, Maps survive a round trip).
 *
 * @example
 * const store = sqlite({ file: '.bac/dev.db' })
 * await store.open()
 */

import type { Field, Filter } from '../db/filter.ts'

export const RUN_KINDS = ['handler', 'operation', 'schedule', 'saga', 'composition', 'agent'] as const
export type RunKind = (typeof RUN_KINDS)[number]

/**
 * - `pending`: runnable from `availableAt`.
 * - `running`: leased by a worker until `leaseExpiresAt`.
 * - `waiting`: suspended (sleep, retry backoff, an event, a child run) until `availableAt` or a wake-up.
 * - `completed`; `compensated` (a saga that failed and undid its finished steps); `failed` (in the
 *   dead-letter queue, unless a caller run handles it); `discarded` (removed from it): final.
 */
export const RUN_STATUSES = [
  'pending',
  'running',
  'waiting',
  'completed',
  'compensated',
  'failed',
  'discarded',
] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export const FINAL_STATUSES: readonly RunStatus[] = ['completed', 'compensated', 'failed', 'discarded']

export interface ErrorInfo {
  readonly name: string
  readonly message: string
  readonly stack?: string
  readonly code?: string
  readonly retryable?: boolean
}

export interface AttemptRecord {
  readonly attempt: number
  readonly at: number
  readonly error: ErrorInfo
}

/** Why a waiting run waits. */
export type Wait =
  | { readonly kind: 'sleep'; readonly until: number }
  | { readonly kind: 'retry'; readonly until: number }
  | { readonly kind: 'limit'; readonly until: number; readonly reason: string }
  | { readonly kind: 'event'; readonly pattern: string; readonly deadline?: number; readonly afterSeq: number }
  | { readonly kind: 'run'; readonly runId: string }

export interface RunRecord {
  readonly id: string
  readonly kind: RunKind
  readonly name: string
  readonly status: RunStatus
  readonly input: unknown
  readonly result?: unknown
  readonly error?: ErrorInfo
  readonly eventId?: string
  readonly parentId?: string
  readonly idempotencyKey?: string
  readonly concurrencyKey?: string
  readonly priority: number
  /** Executions started (claims), including ones a crash cut short. */
  readonly attempt: number
  /** Executions that threw; the retry budget counts these. */
  readonly failures: number
  readonly availableAt: number
  readonly leaseOwner?: string
  readonly leaseExpiresAt?: number
  /** What a waiting run waits for (it wakes when the first of them happens). */
  readonly waits: readonly Wait[]
  readonly history: readonly AttemptRecord[]
  readonly version?: string
  readonly correlationId?: string
  /** W3C trace context of whoever created it, so a chain of events is one trace. */
  readonly trace?: string
  readonly createdAt: number
  readonly updatedAt: number
  readonly startedAt?: number
  readonly finishedAt?: number
}

export interface NewRun {
  readonly id: string
  readonly kind: RunKind
  readonly name: string
  readonly input: unknown
  readonly eventId?: string
  readonly parentId?: string
  readonly idempotencyKey?: string
  readonly concurrencyKey?: string
  readonly priority?: number
  readonly availableAt: number
  readonly version?: string
  readonly correlationId?: string
  readonly trace?: string
  /**
   * Debounced delivery: while a run with this key has not started, a newer event replaces its
   * input and pushes it back to `availableAt`, but not past `latest` after the first event.
   */
  readonly debounce?: { readonly key: string; readonly maxWait?: number }
  /** Create the run already leased by this owner (it is about to run inline). */
  readonly leaseOwner?: string
  readonly leaseExpiresAt?: number
}

export interface EventRecord {
  /** Monotonic position in the event log. */
  readonly seq: number
  readonly id: string
  readonly name: string
  readonly payload: unknown
  readonly idempotencyKey?: string
  readonly correlationId?: string
  readonly sourceRunId?: string
  readonly createdAt: number
}

export interface NewEvent {
  readonly id: string
  readonly name: string
  readonly payload: unknown
  readonly idempotencyKey?: string
  readonly correlationId?: string
  readonly sourceRunId?: string
  readonly createdAt: number
}

export interface StepRecord {
  readonly runId: string
  readonly key: string
  readonly result: unknown
  readonly startedAt: number
  readonly finishedAt: number
}

export interface ScheduleRecord {
  readonly name: string
  readonly cron: string
  readonly timezone?: string
  readonly nextAt: number
  readonly lastFiredAt?: number
  /** Firings skipped because the runtime was down (recorded, not replayed). */
  readonly missed: number
  readonly active: boolean
}

export interface DeadLetterRecord {
  readonly id: string
  readonly runId: string
  readonly kind: RunKind
  readonly name: string
  readonly payload: unknown
  readonly error: ErrorInfo
  readonly attempts: readonly AttemptRecord[]
  readonly createdAt: number
}

export interface ClaimRequest {
  readonly owner: string
  readonly now: number
  readonly limit: number
  readonly leaseMs: number
  /** Per-run-name concurrency limits (with a key: per key). */
  readonly limits?: ReadonlyMap<string, number>
  /** Only runs pinned to these definition versions (`null`: unpinned runs); all when absent. */
  readonly versions?: readonly (string | null)[]
}

/** A change to a run the caller holds the lease of. */
export interface RunSettlement {
  readonly status: 'completed' | 'compensated' | 'waiting' | 'failed' | 'pending'
  readonly result?: unknown
  readonly error?: ErrorInfo
  readonly availableAt?: number
  /** For `waiting`: what wakes the run (besides `availableAt`). */
  readonly waits?: readonly Wait[]
  /** Count a failure and record it in the run's history. */
  readonly failure?: AttemptRecord
  /** For `failed`: the dead letter to file. */
  readonly deadLetterId?: string
  /** Steps to delete: recorded failures the run did not get past, to be tried again. */
  readonly forgetSteps?: readonly string[]
  readonly now: number
}

export interface RunQuery {
  readonly status?: RunStatus
  readonly name?: string
  readonly kind?: RunKind
  readonly parentId?: string
  readonly limit?: number
}

/** A stored document: its type, id, your fields, its version, and when it was written. */
export interface DocumentRecord {
  readonly type: string
  readonly id: string
  readonly data: Readonly<Record<string, unknown>>
  /** 1 when created, one more on every write. */
  readonly version: number
  readonly createdAt: number
  readonly updatedAt: number
}

export interface NewDocument {
  readonly type: string
  readonly id: string
  readonly data: Readonly<Record<string, unknown>>
  readonly idempotencyKey?: string
  readonly now: number
}

export type SortSpec = readonly { readonly field: Field; readonly direction: 'asc' | 'desc' }[]

export interface DocumentQuery {
  readonly filter: Filter
  readonly sort?: SortSpec
  readonly limit?: number
  readonly skip?: number
  /** Keyset position: the sort values and id of the last document already seen. */
  readonly after?: { readonly values: readonly unknown[]; readonly id: string }
  /** In a transaction: lock the documents found until it ends. */
  readonly lock?: boolean
}

/** A document and the values it sorts by (for cursors). */
export interface SortedDocument {
  readonly doc: DocumentRecord
  readonly sortValues: readonly unknown[]
}

export interface Edge {
  readonly fromType: string
  readonly fromId: string
  readonly predicate: string
  readonly toType: string
  readonly toId: string
}

export type Accumulator =
  | { readonly fn: 'sum' | 'avg' | 'min' | 'max'; readonly field: Field | number }
  | { readonly fn: 'count' }

export interface Grouping {
  /** Group by this field, or everything together. */
  readonly by?: Field
  readonly accumulators: Readonly<Record<string, Accumulator>>
}

/** Reads of documents: on the store, or inside a transaction (where they see its own writes). */
export interface DocumentReader {
  get(type: string, id: string): Promise<DocumentRecord | undefined>
  /** Documents of any type with this id (for relations given bare ids). */
  byId(id: string): Promise<DocumentRecord[]>
  find(type: string, query: DocumentQuery): Promise<SortedDocument[]>
  count(type: string, filter: Filter): Promise<number>
  aggregate(type: string, filter: Filter, grouping: Grouping): Promise<Record<string, unknown>[]>
  /** Ranked full-text search over a document's text. */
  search(type: string, terms: readonly string[], limit: number): Promise<DocumentRecord[]>
  related(
    edge: Partial<Edge> & { readonly type: string; readonly id: string; readonly predicate: string },
    toType?: string,
  ): Promise<DocumentRecord[]>
}

/** A document locked for a write, and whether it satisfies the write's condition. */
export interface LockedDocument {
  readonly record: DocumentRecord
  readonly matches: boolean
}

/** Reads and writes of documents (and the events they emit), all in one transaction. */
export interface DocumentTransaction extends DocumentReader {
  /**
   * Lock one document — by id, or the first matching a filter — until the transaction ends,
   * and tell whether it satisfies `check` as it is now (after any write it waited for).
   */
  lock(
    type: string,
    target: { readonly id: string } | { readonly filter: Filter },
    check?: Filter,
  ): Promise<LockedDocument | undefined>
  /** Writers of one key take turns until the transaction ends (an upsert's match, an idempotency key). */
  lockKey(key: string): Promise<void>
  /** The id of the stored event with this name and idempotency key, if there is one. */
  eventByKey(name: string, idempotencyKey: string): Promise<string | undefined>
  byIdempotencyKey(type: string, key: string): Promise<DocumentRecord | undefined>
  /** Insert; a unique violation is a `UniqueViolationError` naming the field and value. */
  insert(doc: NewDocument): Promise<DocumentRecord>
  /** Insert many in few statements (same errors as `insert`). */
  insertMany(docs: readonly NewDocument[]): Promise<DocumentRecord[]>
  /** Replace the fields of an existing document (they were `before`); its version goes up by one. */
  put(
    type: string,
    id: string,
    data: Readonly<Record<string, unknown>>,
    now: number,
    before?: Readonly<Record<string, unknown>>,
  ): Promise<DocumentRecord>
  remove(type: string, id: string): Promise<boolean>
  relate(edge: Edge, now: number): Promise<void>
  unrelate(edge: Edge): Promise<number>
  /** Store an event and its deliveries with this transaction (the transactional outbox; written at its end). */
  publish(event: NewEvent, runs: readonly NewRun[]): void
  /** Documents of `types` are written: stamp it, and drop cached results tagged with `tags`; the keys dropped. */
  invalidateCache(types: readonly string[], tags: readonly string[], now: number): Promise<string[]>
}

export type Isolation = 'read committed' | 'repeatable read' | 'serializable'

export interface DocumentTransactionOptions {
  /** PostgreSQL's isolation level (SQLite's write transactions are serializable). */
  readonly isolation?: Isolation
  /**
   * The work runs user code (`db.transaction`): on SQLite it gets a commit of its own, so it can
   * await writes begun before it; on PostgreSQL an insert that fails (a unique violation the
   * code catches) does not abort the whole transaction (each insert is in a savepoint).
   */
  readonly userCode?: boolean
  /**
   * The durable step of a run this transaction is: its result is recorded under `key` in the
   * same commit. If the step is recorded already (a replay, another worker), nothing is
   * written and the recorded result is returned.
   */
  readonly step?: {
    readonly runId: string
    readonly key: string
    readonly startedAt: number
    readonly finishedAt: () => number
  }
}

export interface TransactionOutcome<T> {
  /** What the work returned — as stored and read back, for a step. */
  readonly value: T
  /** The step was recorded before: this transaction wrote nothing. */
  readonly replayed: boolean
  /** The ids of the events it stored (those of its outbox that were not duplicates). */
  readonly published: ReadonlySet<string>
  /** Whether they made runs runnable (runs of their handlers, or waiting runs woken). */
  readonly work: boolean
}

export interface DocumentStore extends DocumentReader {
  /**
   * Run `work` in one transaction with its outbox. Deadlocks and serialization failures roll
   * it back and run it again (a few times, then a `ConflictError`).
   */
  transaction<T>(
    work: (tx: DocumentTransaction) => Promise<T>,
    options?: DocumentTransactionOptions,
  ): Promise<TransactionOutcome<T>>
  /** A real index on the fields' JSON expressions (scoped to the type). */
  createIndex(type: string, fields: readonly Field[], unique: boolean): Promise<string>
  /** The database's plan for a query (to check an index is used). */
  explain(type: string, filter: Filter): Promise<string>
}

/** Small shared values, updated atomically (circuit breakers, rate limits). */
export interface StateStore {
  get<T>(scope: string, key: string): Promise<T | undefined>
  list<T>(scope: string): Promise<{ readonly key: string; readonly value: T }[]>
  /** Read, change and write one value in one transaction; resolves to what `change` returns. */
  update<T, R>(
    scope: string,
    key: string,
    change: (current: T | undefined) => { readonly value: T; readonly result: R },
    now: number,
  ): Promise<R>
}

/** A deployed version, without its code. */
export interface DeploymentSummary {
  readonly version: string
  readonly sha256: string
  readonly createdAt: number
  readonly activatedAt?: number
  /** The version new runs use. */
  readonly active: boolean
}

export interface DeploymentRecord extends DeploymentSummary {
  /** The bundled business (an ES module). */
  readonly bundle: string
}

/** Deployed versions of the business (`bac deploy`), newest first. */
export interface DeploymentStore {
  /** Store a version once; the same code again is a duplicate, other code an error. */
  save(deployment: { version: string; bundle: string; sha256: string; now: number }): Promise<{ duplicate: boolean }>
  list(): Promise<DeploymentSummary[]>
  get(version: string): Promise<DeploymentRecord | undefined>
  /** Make it the active version (and no other); `false` if there is no such version. */
  activate(version: string, now: number): Promise<boolean>
}

/** The shared layer of the result cache. */
export interface CacheStore {
  get(key: string, now: number): Promise<{ readonly value: unknown; readonly expiresAt: number } | undefined>
  /**
   * Store an entry — unless documents of `guard.types` were written since `guard.since` (the
   * result may have been computed from what they were before): then nothing, and `false`.
   */
  set(
    key: string,
    value: unknown,
    expiresAt: number,
    tags: readonly string[],
    guard?: { readonly types: readonly string[]; readonly since: number; readonly now: number },
  ): Promise<boolean>
  /** Drop entries by key, by glob (`products:*`) or by tag; resolves to the keys dropped. */
  invalidate(selector: {
    readonly keys?: readonly string[]
    readonly pattern?: string
    readonly tags?: readonly string[]
  }): Promise<string[]>
}

/** Counts for gauges and dashboards. */
export interface StoreStats {
  readonly runnable: number
  readonly waiting: number
  readonly running: number
  readonly deadLetters: number
  /** Since when the longest-waiting runnable run has been due — a run whose lease ran out, since then (undefined: none is). */
  readonly oldestDueAt?: number
}

/** Channels of changes other processes make: new runnable work; a new active deployment. */
export type ChangeChannel = 'bac_work' | 'bac_deploy'

export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  /**
   * Be told when another process commits a change on `channel` (PostgreSQL LISTEN/NOTIFY; on a
   * SQLite file, any commit of another connection); resolves to a stop function. Absent where no
   * other process can write (SQLite in memory).
   */
  readonly listen?: (channel: ChangeChannel, onChange: () => void) => Promise<() => Promise<void>>
  readonly documents: DocumentStore
  readonly state: StateStore
  readonly cache: CacheStore
  readonly deployments: DeploymentStore
  stats(now: number): Promise<StoreStats>
  /** Connect and bring the schema up to date; refuses a database migrated by a newer bac. */
  open(): Promise<void>
  close(): Promise<void>

  /**
   * Persist an event and the runs it fans out to, in one transaction. A duplicate (same id, or
   * same name and idempotency key) writes nothing and returns the first event.
   */
  publish(
    event: NewEvent,
    runs: readonly NewRun[],
  ): Promise<{ readonly event: EventRecord; readonly duplicate: boolean }>
  /** Persist a run; a duplicate (same id, or same name and idempotency key) returns the first. */
  enqueue(run: NewRun): Promise<{ readonly run: RunRecord; readonly duplicate: boolean }>
  /** Lease up to `limit` runnable runs: due pending/waiting ones, and running ones whose lease expired. */
  claim(request: ClaimRequest): Promise<RunRecord[]>
  /** Extend this owner's leases; resolves to the ids still held (the others were lost). */
  renewLeases(owner: string, ids: readonly string[], until: number): Promise<string[]>
  /** Give leased runs back, runnable at once (a stopping worker). */
  releaseLeases(owner: string, ids: readonly string[], now: number): Promise<void>
  /** Leases held by owners that are gone: make their runs runnable now. */
  releaseOwners(owners: readonly string[], now: number): Promise<number>
  /** Owners holding unexpired leases. */
  leaseOwners(now: number): Promise<string[]>
  /**
   * Move a run this owner leases to its next state; `undefined` if the lease was lost. In the
   * same transaction: a final run wakes the runs waiting on it, and a run that starts waiting
   * is made runnable at once if what it waits for has already happened.
   */
  settle(id: string, owner: string, settlement: RunSettlement): Promise<RunRecord | undefined>
  /**
   * Wake waiting runs whose event or child has happened but who were not woken (a wake-up that
   * raced a suspension on PostgreSQL). A backstop, run now and then; resolves to how many woke.
   */
  sweepWaiting(now: number, limit?: number): Promise<number>
  /** The earliest future time a run becomes runnable. */
  nextAvailableAt(): Promise<number | undefined>
  /** Whether any run is runnable at `now` (for drain), among runs of these versions when given. */
  hasRunnable(now: number, versions?: readonly (string | null)[]): Promise<boolean>

  getRun(id: string): Promise<RunRecord | undefined>
  findRun(name: string, idempotencyKey: string): Promise<RunRecord | undefined>
  listRuns(query?: RunQuery): Promise<RunRecord[]>

  steps(runId: string): Promise<StepRecord[]>
  /** Store a finished step; if it is already stored, keep and return the first. */
  saveStep(step: StepRecord): Promise<StepRecord>

  getEvent(id: string): Promise<EventRecord | undefined>
  /** Events whose name is one of `names`, after position `afterSeq`, oldest first. */
  eventsAfter(names: readonly string[] | undefined, afterSeq: number, limit: number): Promise<EventRecord[]>
  lastEventSeq(): Promise<number>
  /** The database server's clock, epoch ms: workers' clocks are checked against it. */
  serverTime(): Promise<number>

  listDeadLetters(limit?: number): Promise<DeadLetterRecord[]>
  getDeadLetter(id: string): Promise<DeadLetterRecord | undefined>
  /** Remove the dead letter and make its run runnable again with a fresh retry budget. */
  replayDeadLetter(id: string, now: number): Promise<RunRecord | undefined>
  /** Remove the dead letter and mark its run discarded. */
  discardDeadLetter(id: string, now: number): Promise<boolean>

  /** Make the stored schedules match the declared ones (keeping each one's next tick when unchanged). */
  syncSchedules(
    declared: readonly Omit<ScheduleRecord, 'missed' | 'active' | 'lastFiredAt'>[],
  ): Promise<ScheduleRecord[]>
  listSchedules(): Promise<ScheduleRecord[]>
  /**
   * Fire one tick: if the schedule's next tick is still `expectedNextAt`, move it on and
   * enqueue the run, atomically. `false` when another worker fired it first.
   */
  fireSchedule(
    name: string,
    expectedNextAt: number,
    update: { readonly nextAt: number; readonly firedAt: number; readonly missed: number },
    run: NewRun,
  ): Promise<boolean>
}
