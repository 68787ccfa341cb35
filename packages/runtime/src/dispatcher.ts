/**
 * The claim loop: keeps up to `concurrency` runs executing in this worker. It claims when
 * work appears (a send in this process, a run finishing), when the earliest waiting run falls
 * due (a timer on the clock), and — for stores other processes write to — every
 * `pollInterval`. It renews the leases of what it executes, so a live worker keeps its runs
 * and a dead one's are reclaimed once their leases expire.
 *
 * @example
 * const dispatcher = new Dispatcher(engine, executor, { concurrency: 10 })
 * dispatcher.start()
 */
import type { Timer } from './clock/clock.ts'
import type { Engine } from './engine.ts'
import type { Executor } from './executor.ts'
import type { RunRecord } from './store/store.ts'

/** At stop, how long step bodies already running may take to finish and be stored. */
const STEP_GRACE_MS = 1000

export interface DispatcherOptions {
  readonly concurrency: number
  /** Look for work written by other processes this often (ms); off when undefined. */
  readonly pollInterval?: number
  /** Re-check waiting runs for wake-ups that raced their suspension this often (ms); off when undefined. */
  readonly sweepInterval?: number
}

export class Dispatcher {
  private readonly running = new Map<string, Promise<void>>()
  private pumping: Promise<void> | undefined
  private again = false
  private stopped = true
  /** After `stop()`: not even lease renewal (before `start()`, inline runs still renew). */
  private closed = false
  private sweepTimer: Timer | undefined
  private wakeTimer: Timer | undefined
  private wakeAt: number | undefined
  private renewTimer: Timer | undefined
  private pollTimer: Timer | undefined
  /** Until when each executing run's lease is known to hold (its last renewal). */
  private readonly heldUntil = new Map<string, number>()
  private readonly onWork = () => this.kick()

  constructor(
    private readonly engine: Engine,
    private readonly executor: Executor,
    private readonly options: DispatcherOptions,
  ) {}

  /** Wire lease renewal before anything runs (operations sent before `start()` run inline). */
  attach(): void {
    this.executor.onStart = () => this.renewLater()
  }

  start(): void {
    if (!this.stopped || this.closed) return
    this.stopped = false
    this.engine.emitter.on('work', this.onWork)
    this.pollLater()
    void this.sweep()
    this.kick()
  }

  /** Claim and start what fits; resolves when this round of claiming is done. */
  pump(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    if (this.pumping) {
      this.again = true
      return this.pumping
    }
    this.pumping = (async () => {
      try {
        // A kick while this round runs (a run finished, an event came) must not be lost: go again.
        do {
          this.again = false
          await this.claimRound()
          await this.armWakeTimer()
        } while (this.again && !this.stopped)
      } catch (error) {
        this.engine.log.error('claiming runs failed; will try again', { error: (error as Error).message })
        this.retryLater()
      } finally {
        this.pumping = undefined
      }
    })()
    return this.pumping
  }

  kick(): void {
    void this.pump()
  }

  /** Until nothing this worker started is executing. */
  async settle(): Promise<void> {
    while (this.running.size > 0 || this.pumping) {
      await Promise.all([...this.running.values(), this.pumping])
    }
  }

  get executing(): number {
    return this.running.size
  }

  /** Stop claiming; let executing runs finish for up to `graceMs`; give the rest back. */
  async stop(graceMs: number): Promise<void> {
    if (this.closed) return
    this.stopped = true
    this.closed = true
    this.engine.emitter.off('work', this.onWork)
    for (const timer of [this.wakeTimer, this.renewTimer, this.pollTimer, this.sweepTimer]) timer?.cancel()
    await this.pumping
    await atMost(Promise.all(this.running.values()), graceMs)
    const unfinished = [...this.executor.active.keys()]
    if (unfinished.length > 0) {
      this.executor.abortAll(new Error('the runtime is stopping'))
      // Step bodies already running get a moment to end and store their results, so whoever
      // takes the run over replays them instead of running them again alongside this process.
      await atMost(this.executor.settleSteps(), STEP_GRACE_MS)
      await this.engine.store.releaseLeases(this.engine.workerId, unfinished, this.engine.clock.now())
      this.engine.log.warn('stopped with runs unfinished; they are released for the next start', {
        runs: unfinished.length,
      })
    }
  }

  private async claimRound(): Promise<void> {
    const { store, clock, workerId, leaseMs, limits } = this.engine
    for (;;) {
      const free = this.options.concurrency - this.running.size
      if (free <= 0 || this.stopped) return
      const claimed = await store.claim({
        owner: workerId,
        now: clock.now(),
        limit: free,
        leaseMs,
        limits,
        versions: this.engine.versions,
      })
      for (const run of claimed) this.begin(run)
      if (claimed.length < free) return
    }
  }

  private begin(run: RunRecord): void {
    const execution = this.executor
      .execute(run)
      .catch((error: unknown) => {
        this.engine.log.error('executing a run failed unexpectedly; its lease will expire and it will run again', {
          run: run.id,
          error: (error as Error).message,
        })
      })
      .finally(() => {
        this.running.delete(run.id)
        // Under load, claim in batches: a claim per finished run would add a commit per run.
        const free = this.options.concurrency - this.running.size
        if (this.running.size === 0 || free >= Math.max(1, Math.floor(this.options.concurrency / 4))) this.kick()
      })
    this.running.set(run.id, execution)
  }

  private async armWakeTimer(): Promise<void> {
    const { store, clock } = this.engine
    const next = await store.nextAvailableAt()
    const now = clock.now()
    if (next === undefined || next <= now || this.stopped) return
    if (this.wakeAt !== undefined && this.wakeAt <= next && this.wakeTimer) return
    this.wakeTimer?.cancel()
    this.wakeAt = next
    this.wakeTimer = clock.setTimer(() => {
      this.wakeTimer = undefined
      this.wakeAt = undefined
      this.kick()
    }, next - now)
  }

  private retryLater(): void {
    if (this.stopped) return
    this.engine.clock.setTimer(() => this.kick(), 1000)
  }

  /**
   * Renew leases every third of a lease while runs execute (the timer stops when none do). A run
   * whose lease was not renewed belongs to another worker now: its code here is aborted. So is
   * one whose lease would run out before the next try while the store cannot be reached (a
   * partition): another worker may take it then, and the two must not run it side by side.
   */
  private renewLater(): void {
    if (this.renewTimer || this.closed) return
    const { clock, leaseMs } = this.engine
    const interval = Math.max(1, Math.floor(leaseMs / 3))
    this.renewTimer = clock.setTimer(async () => {
      this.renewTimer = undefined
      const ids = [...this.executor.active.keys()]
      for (const id of this.heldUntil.keys()) if (!this.executor.active.has(id)) this.heldUntil.delete(id)
      if (this.closed || ids.length === 0) return
      const now = clock.now()
      // A run first seen here started within the last interval: its lease holds at least this long.
      for (const id of ids) if (!this.heldUntil.has(id)) this.heldUntil.set(id, now + leaseMs - interval)
      try {
        const held = new Set(await this.engine.store.renewLeases(this.engine.workerId, ids, now + leaseMs))
        for (const id of ids) {
          if (held.has(id)) this.heldUntil.set(id, now + leaseMs)
          else if (this.executor.active.has(id)) this.executor.abort(id, new Error('the lease was lost'))
        }
      } catch (error) {
        const expiring = ids.filter((id) => (this.heldUntil.get(id) ?? 0) <= now + interval)
        this.engine.log.error('renewing leases failed', {
          error: (error as Error).message,
          ...(expiring.length > 0 ? { aborted: expiring.length } : {}),
        })
        for (const id of expiring) {
          this.executor.abort(
            id,
            new Error('the lease could not be renewed before it ran out (the store is unreachable)'),
          )
        }
      }
      this.renewLater()
    }, interval)
  }

  /** The backstop for wake-ups that raced a suspension (see `Store.sweepWaiting`). */
  private async sweep(): Promise<void> {
    if (this.stopped) return
    try {
      if ((await this.engine.store.sweepWaiting(this.engine.clock.now())) > 0) this.kick()
    } catch (error) {
      this.engine.log.error('checking waiting runs failed', { error: (error as Error).message })
    }
    const every = this.options.sweepInterval
    if (every !== undefined && !this.stopped)
      this.sweepTimer = this.engine.clock.setTimer(() => void this.sweep(), every)
  }

  private pollLater(): void {
    const every = this.options.pollInterval
    if (every === undefined) return
    this.pollTimer = this.engine.clock.setTimer(() => {
      if (this.stopped) return
      this.kick()
      this.pollLater()
    }, every)
  }
}

/** Until `work` is done, or `ms` of wall-clock time have passed (shutdown is not business time). */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
