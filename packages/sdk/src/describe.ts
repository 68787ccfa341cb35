/**
 * `describe(definition)`: a business as JSON — what each handler handles and sends, when each
 * schedule fires next, each service's operations with their contracts as JSON Schema, sagas,
 * compositions, agents, registered events, metrics and collections. What `bac inspect` prints
 * and the dashboard shows.
 *
 * @example
 * console.log(JSON.stringify(describe(await load('./src/index.ts')), null, 2))
 */
import { Cron } from 'croner'
import { z } from 'zod'
import type { BusinessDefinition, ComposableDefinition, ServiceDefinition } from './definition.ts'
import type { Schema } from './schema.ts'

export type JsonSchema = Readonly<Record<string, unknown>>

/** A schema as JSON Schema; types JSON Schema cannot express (dates) become `{}`. */
export function jsonSchema(schema: Schema | undefined): JsonSchema | undefined {
  if (!schema) return undefined
  try {
    return z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonSchema
  } catch {
    return {}
  }
}

const label = (step: ComposableDefinition): string => {
  switch (step.kind) {
    case 'function':
      return `fn ${step.name}`
    case 'operation':
      return `${step.service}.${step.operation}`
    case 'send':
      return `send ${step.verb}`
    default:
      return `${step.kind} ${step.name}`
  }
}

function nextRun(cron: string, timezone: string | undefined, now: Date): string | undefined {
  const next = new Cron(cron, { paused: true, ...(timezone ? { timezone } : {}) }).nextRun(now)
  return next?.toISOString()
}

function describeService(service: ServiceDefinition) {
  return {
    name: service.name,
    key: service.key,
    subject: service.subject,
    ...(service.version ? { version: service.version } : {}),
    ...(service.type ? { type: service.type } : {}),
    operations: service.operations.map((op) => ({
      name: op.name,
      verb: op.verb,
      internal: op.internal,
      ...(op.input ? { input: jsonSchema(op.input) } : {}),
      ...(op.output ? { output: jsonSchema(op.output) } : {}),
      sends: op.sends,
    })),
    endpoints: service.endpoints.map((e) => `${e.method} ${e.path}`),
    handlers: service.handlers,
    jobs: service.jobs,
    collections: service.collections,
    metrics: service.metrics.map((m) => m.name),
    health: Boolean(service.health),
    ...(service.versions
      ? { versions: Object.fromEntries(Object.entries(service.versions).map(([range, s]) => [range, s.version])) }
      : {}),
  }
}

export function describe(definition: BusinessDefinition, now: Date = new Date()) {
  return {
    name: definition.name,
    handlers: definition.handlers.map((h) => ({
      name: h.name,
      events: h.patterns,
      sends: h.sends,
      ...(h.service ? { service: h.service } : {}),
      ...(h.source ? { source: h.source } : {}),
    })),
    schedules: definition.schedules.map((s) => ({
      name: s.name,
      cron: s.cron,
      description: s.description,
      ...(s.timezone ? { timezone: s.timezone } : {}),
      next: nextRun(s.cron, s.timezone, now),
      sends: s.sends,
      ...(s.service ? { service: s.service } : {}),
    })),
    services: definition.services.map(describeService),
    sagas: definition.sagas.map((s) => ({
      name: s.name,
      steps: s.steps.map((step) => ({ name: step.name, compensation: Boolean(step.compensation) })),
      sends: s.sends,
    })),
    compositions: definition.compositions.map((c) => ({ name: c.name, mode: c.mode, steps: c.steps.map(label) })),
    agents: definition.agents.map((a) => ({
      name: a.name,
      ...(a.model ? { model: a.model } : {}),
      tools: a.tools.map((t) => t.name),
      maxTurns: a.maxTurns,
    })),
    events: Object.entries(definition.events).map(([name, schema]) => ({ name, schema: jsonSchema(schema) })),
    metrics: definition.metrics.map((m) => ({ name: m.name, kind: m.kind, labels: m.labels ?? [] })),
    collections: definition.collections.map((c) => ({ name: c.name, ...(c.owner ? { owner: c.owner } : {}) })),
  }
}

export type BusinessDescription = ReturnType<typeof describe>
