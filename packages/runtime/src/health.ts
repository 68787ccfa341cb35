/**
 * Health: is the store reachable, and what did each service's `health.check` last say. Checks
 * run on their declared interval (on the runtime's clock), bound to the runtime as ambient
 * context, with a time limit; a check that throws or times out reports `unhealthy` with its
 * error. `rt.health()` (and `GET /health`) report `ok`, `degraded` (a service is unhealthy,
 * or a circuit breaker is open) or `down` (the store is not reachable), with the worker's id,
 * active version, the runs it holds leases on, and how long due work has waited for a worker.
 *
 * @example
 * const { status, services } = await rt.health()
 */
import type { Context, ServiceDefinition } from '@bac/sdk'
import { bindContext } from '@bac/sdk/internal'
import type { Timer } from './clock/clock.ts'
import { clockSkew } from './clock-skew.ts'
import type { Engine } from './engine.ts'
import type { BreakerPhase } from './policies/circuit-breaker.ts'
import { withTimeLimit } from './time-limit.ts'

export interface ServiceHealth {
  readonly status: 'healthy' | 'unhealthy' | 'unknown'
  readonly checks?: Readonly<Record<string, unknown>>
  readonly error?: string
  readonly checkedAt?: string
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down'
  readonly worker: string
  /** The definition version new runs start on here (absent when unversioned). */
  readonly version?: string
  readonly store: { readonly reachable: boolean; readonly latencyMs?: number; readonly error?: string }
  readonly services: Readonly<Record<string, ServiceHealth>>
  /** Every circuit breaker's phase; an open one makes the report `degraded`. */
  readonly breakers: Readonly<Record<string, BreakerPhase>>
  /** Runs this worker holds leases on (executing now). */
  readonly leases: number
  /** How long the longest-waiting runnable run has waited for a worker, ms (0: none waits). */
  readonly lagMs: number
  /** Workers sharing a database: how far the database's clock is ahead of this worker's, ms. */
  readonly clockSkewMs?: number
}

const CHECK_TIMEOUT = 5000

/** What a check returned, as a status: `{ status }`, a boolean, or nothing (healthy). */
function interpret(value: unknown): Omit<ServiceHealth, 'checkedAt'> {
  if (value === false) return { status: 'unhealthy' }
  if (typeof value === 'object' && value !== null) {
    const { status, checks } = value as { status?: unknown; checks?: Record<string, unknown> }
    const healthy =
      status === undefined || status === 'healthy' || status === 'ok' || status === 'up' || status === true
    return { status: healthy ? 'healthy' : 'unhealthy', ...(checks ? { checks } : {}) }
  }
  return { status: 'healthy' }
}

export class HealthMonitor {
  private readonly latest = new Map<string, ServiceHealth>()
  private readonly timers: Timer[] = []

  constructor(
    private readonly engine: Engine,
    private readonly ambient: Context,
    /** How many runs this worker is executing. */
    private readonly leases: () => number = () => 0,
    /** Other workers share the store: report this one's clock skew. */
    private readonly shared = false,
  ) {}

  start(): void {
    this.stop()
    for (const service of this.engine.business.services) {
      if (!service.health) continue
      this.latest.set(service.name, { status: 'unknown' })
      this.schedule(service, 0)
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) timer.cancel()
  }

  /** Run every service's check now (the periodic ones keep their rhythm). */
  async checkAll(): Promise<void> {
    await Promise.all(this.engine.business.services.filter((s) => s.health).map((s) => this.check(s)))
  }

  async report(): Promise<HealthReport> {
    const store = await this.probeStore()
    const services = Object.fromEntries(this.latest)
    const breakers = store.reachable ? await this.engine.breakers.phases() : {}
    const stats = store.reachable ? await this.engine.store.stats(this.engine.clock.now()) : undefined
    const lagMs = stats?.oldestDueAt === undefined ? 0 : Math.max(0, this.engine.clock.now() - stats.oldestDueAt)
    const clockSkewMs =
      store.reachable && this.shared ? await clockSkew(this.engine.store, this.engine.clock) : undefined
    const unhealthy =
      [...this.latest.values()].some((s) => s.status === 'unhealthy') ||
      Object.values(breakers).some((phase) => phase === 'open')
    return {
      status: !store.reachable ? 'down' : unhealthy ? 'degraded' : 'ok',
      worker: this.engine.workerId,
      ...(this.engine.version ? { version: this.engine.version } : {}),
      store,
      services,
      breakers,
      leases: this.leases(),
      lagMs,
      ...(clockSkewMs === undefined ? {} : { clockSkewMs }),
    }
  }

  private schedule(service: ServiceDefinition, delay: number): void {
    const timer = this.engine.clock.setTimer(async () => {
      this.timers.splice(this.timers.indexOf(timer), 1)
      await this.check(service)
      this.schedule(service, service.health?.interval ?? 30_000)
    }, delay)
    this.timers.push(timer)
  }

  private async check(service: ServiceDefinition): Promise<void> {
    const health = service.health
    if (!health) return
    const checkedAt = new Date(this.engine.clock.now()).toISOString()
    try {
      const work = Promise.resolve().then(() => bindContext(this.ambient, () => health.check()))
      const value = await withTimeLimit(this.engine.clock, work, CHECK_TIMEOUT, `health check of ${service.name}`)
      this.latest.set(service.name, { ...interpret(value), checkedAt })
    } catch (error) {
      this.latest.set(service.name, { status: 'unhealthy', error: (error as Error).message, checkedAt })
    }
  }

  private async probeStore(): Promise<HealthReport['store']> {
    const started = performance.now()
    try {
      await this.engine.store.lastEventSeq()
      return { reachable: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 }
    } catch (error) {
      return { reachable: false, error: (error as Error).message }
    }
  }
}
