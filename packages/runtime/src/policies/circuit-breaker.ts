/**
 * Circuit breakers whose state lives in the store, so every worker sees the same breaker and a
 * restart keeps it. Closed, calls pass and failures are counted — consecutively, or as a rate
 * over a window once enough calls were made; past the threshold it opens and calls fail fast;
 * after `resetAfter` it lets one probe through (half-open): success closes it, failure opens it
 * again. Transitions are events out (`onChange`), which telemetry subscribes to.
 *
 * @example
 * const breakers = new CircuitBreakers(store, clock)
 * const admission = await breakers.admit('stripe', options)
 * if (!admission.allowed) throw new BrokenCircuitError('stripe', admission.retryAfter)
 */
import { BacError, type CircuitBreakerOptions } from '@bac/sdk'
import type { Clock } from '../clock/clock.ts'
import type { StateStore } from '../store/store.ts'
import type { Policy } from './policy.ts'

export type BreakerPhase = 'closed' | 'open' | 'half-open'

export interface BreakerState {
  readonly phase: BreakerPhase
  readonly failures: number
  readonly calls: number
  readonly windowStart: number
  readonly openedAt?: number
  /** When an open breaker will let a probe through. */
  readonly reopensAt?: number
  /** While a half-open probe is out, others wait until this time. */
  readonly probeUntil?: number
}

/** Calls fail fast while the breaker is open; `retryAfter` ms until it may let a probe through. */
export class BrokenCircuitError extends BacError {
  readonly code = 'BAC_CIRCUIT_OPEN'

  constructor(
    readonly breaker: string,
    readonly retryAfter: number,
  ) {
    super(`circuit breaker "${breaker}" is open; calls fail fast for another ${retryAfter} ms`)
  }
}

const SCOPE = 'breaker'
/** How long one half-open probe has before another may be let through. */
const PROBE_LEASE = 30_000

const fresh = (now: number): BreakerState => ({ phase: 'closed', failures: 0, calls: 0, windowStart: now })

/** Whether a call may go through now, and the state after letting it (or not). */
export function admit(
  state: BreakerState,
  now: number,
  options: CircuitBreakerOptions,
): { state: BreakerState; retryAfter?: number } {
  if (state.phase === 'closed') return { state }
  const openUntil = (state.openedAt ?? now) + options.resetAfter
  if (state.phase === 'open' && now < openUntil) return { state, retryAfter: openUntil - now }
  if (state.phase === 'half-open' && state.probeUntil !== undefined && now < state.probeUntil) {
    return { state, retryAfter: state.probeUntil - now }
  }
  return { state: { ...state, phase: 'half-open', probeUntil: now + Math.min(PROBE_LEASE, options.resetAfter) } }
}

/** The state after a call's outcome. */
export function record(state: BreakerState, ok: boolean, now: number, options: CircuitBreakerOptions): BreakerState {
  const opened = { ...fresh(now), phase: 'open' as const, openedAt: now, reopensAt: now + options.resetAfter }
  if (state.phase === 'half-open') return ok ? fresh(now) : opened
  if (state.phase === 'open') return state
  if (options.mode === 'consecutive') {
    if (ok) return { ...state, failures: 0 }
    const failures = state.failures + 1
    return failures >= options.threshold ? opened : { ...state, failures }
  }
  const rolled = now - state.windowStart >= options.window ? fresh(now) : state
  const calls = rolled.calls + 1
  const failures = rolled.failures + (ok ? 0 : 1)
  if (calls >= options.minimumCalls && failures / calls >= options.rate)
    return { ...fresh(now), phase: 'open', openedAt: now }
  return { ...rolled, calls, failures }
}

export type BreakerChange = { readonly name: string; readonly from: BreakerPhase; readonly to: BreakerPhase }

export class CircuitBreakers {
  /** Called on every change of phase. */
  onChange: (change: BreakerChange) => void = () => {}

  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {}

  /** Let a call through, or say how long until it could be. */
  admit(name: string, options: CircuitBreakerOptions): Promise<{ allowed: boolean; retryAfter?: number }> {
    const now = this.clock.now()
    return this.state
      .update<BreakerState, { allowed: boolean; retryAfter?: number; from: BreakerPhase; to: BreakerPhase }>(
        SCOPE,
        name,
        (current) => {
          const before = current ?? fresh(now)
          const { state, retryAfter } = admit(before, now, options)
          return {
            value: state,
            result: {
              allowed: retryAfter === undefined,
              ...(retryAfter === undefined ? {} : { retryAfter }),
              from: before.phase,
              to: state.phase,
            },
          }
        },
        now,
      )
      .then(({ from, to, ...result }) => {
        if (from !== to) this.onChange({ name, from, to })
        return result
      })
  }

  /** Count a call's outcome. */
  async record(name: string, ok: boolean, options: CircuitBreakerOptions): Promise<void> {
    const now = this.clock.now()
    const { from, to } = await this.state.update<BreakerState, { from: BreakerPhase; to: BreakerPhase }>(
      SCOPE,
      name,
      (current) => {
        const before = current ?? fresh(now)
        const after = record(before, ok, now, options)
        return { value: after, result: { from: before.phase, to: after.phase } }
      },
      now,
    )
    if (from !== to) this.onChange({ name, from, to })
  }

  /** Every breaker's phase (for health and metrics): an open one past its reset time is half-open, whether or not a call has come. */
  async phases(): Promise<Record<string, BreakerPhase>> {
    const now = this.clock.now()
    const phase = (state: BreakerState): BreakerPhase =>
      state.phase === 'open' && state.reopensAt !== undefined && now >= state.reopensAt ? 'half-open' : state.phase
    return Object.fromEntries((await this.state.list<BreakerState>(SCOPE)).map(({ key, value }) => [key, phase(value)]))
  }

  /** A breaker as a policy value, for code of your own. */
  policy(name: string, options: CircuitBreakerOptions): Policy {
    return {
      execute: async (fn, ctx = {}) => {
        const admission = await this.admit(name, options)
        if (!admission.allowed) throw new BrokenCircuitError(name, admission.retryAfter ?? 0)
        try {
          const value = await fn(ctx)
          await this.record(name, true, options)
          return value
        } catch (error) {
          await this.record(name, false, options)
          throw error
        }
      },
    }
  }
}
