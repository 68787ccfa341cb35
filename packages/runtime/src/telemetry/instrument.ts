/**
 * Connects the engine's events to the metrics and logs: runs started and how they ended (with
 * their durations), step durations, cache hits and misses, and circuit-breaker transitions.
 * The engine only emits; what is counted is decided here, in one place.
 *
 * @example
 * instrument(engine)
 */
import type { Engine } from '../engine.ts'

/** A step's key without its scope's repeat counters (`charge#2` → `charge`), to keep label sets small. */
const stepLabel = (key: string) => key.replace(/#\d+/g, '')

export function instrument(engine: Engine): void {
  const { metrics, emitter, log } = engine
  emitter.on('started', (run) => metrics.runsStarted.inc({ kind: run.kind, name: run.name }))
  emitter.on('ended', ({ run, outcome, seconds }) => {
    const labels = { kind: run.kind, name: run.name }
    metrics.runDuration.observe(labels, seconds)
    if (outcome === 'completed') metrics.runsCompleted.inc(labels)
    else if (outcome === 'retrying') metrics.runsRetried.inc(labels)
    else if (outcome === 'failed') metrics.runsFailed.inc(labels)
    else if (outcome === 'compensated') metrics.runsCompensated.inc(labels)
  })
  emitter.on('step', ({ run, name, seconds }) =>
    metrics.stepDuration.observe({ name: run.name, step: stepLabel(name) }, seconds),
  )
  engine.cache.onLookup = (hit) => metrics.cacheRequests.inc({ result: hit ? 'hit' : 'miss' })
  engine.breakers.onChange = ({ name, from, to }) => {
    const fields = { breaker: name, from, to }
    if (to === 'open') log.warn('circuit breaker opened; calls fail fast until it probes again', fields)
    else log.info(`circuit breaker is ${to}`, fields)
  }
}
