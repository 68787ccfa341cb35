/** The tables of the store, as kysely sees them. Times are epoch milliseconds. */
import type { Generated } from 'kysely'

export interface RunsTable {
  id: string
  kind: string
  name: string
  status: string
  input: string
  result: string | null
  error: string | null
  event_id: string | null
  parent_id: string | null
  idempotency_key: string | null
  concurrency_key: string | null
  priority: number
  attempt: number
  failures: number
  available_at: number
  lease_owner: string | null
  lease_expires_at: number | null
  /** JSON list of what a waiting run waits for (its wake-up keys are in bac_waits). */
  wait: string | null
  history: string
  version: string | null
  correlation_id: string | null
  created_at: number
  updated_at: number
  started_at: number | null
  finished_at: number | null
  debounce_key: string | null
  /** W3C trace context (`traceparent`) of whoever created the run. */
  trace: string | null
}

export interface EventsTable {
  seq: Generated<number>
  id: string
  name: string
  payload: string
  idempotency_key: string | null
  correlation_id: string | null
  source_run_id: string | null
  created_at: number
}

export interface WaitsTable {
  key: string
  run_id: string
}

export interface StepsTable {
  run_id: string
  key: string
  result: string
  started_at: number
  finished_at: number
}

export interface SchedulesTable {
  name: string
  cron: string
  timezone: string | null
  next_at: number
  last_fired_at: number | null
  missed: number
  active: number
}

export interface DeadLettersTable {
  id: string
  run_id: string
  kind: string
  name: string
  payload: string
  error: string
  attempts: string
  created_at: number
}

export interface Database {
  bac_runs: RunsTable
  bac_events: EventsTable
  bac_steps: StepsTable
  bac_waits: WaitsTable
  bac_schedules: SchedulesTable
  bac_dead_letters: DeadLettersTable
  bac_documents: DocumentsTable
  bac_relations: RelationsTable
  bac_indexes: IndexesTable
  bac_state: StateTable
  bac_cache: CacheTable
  bac_cache_tags: CacheTagsTable
  bac_cache_stamps: CacheStampsTable
  bac_deployments: DeploymentsTable
}

export interface DocumentsTable {
  type: string
  id: string
  /** JSON text on SQLite, jsonb on PostgreSQL. */
  data: string | Record<string, unknown>
  idempotency_key: string | null
  /** 1 when created, one more on every write. */
  version: number
  created_at: number
  updated_at: number
}

export interface RelationsTable {
  from_type: string
  from_id: string
  predicate: string
  to_type: string
  to_id: string
  created_at: number
}

export interface IndexesTable {
  name: string
  type: string
  fields: string
  is_unique: number
}

export interface StateTable {
  scope: string
  key: string
  value: string
  updated_at: number
}

export interface CacheTable {
  key: string
  value: string
  expires_at: number
}

export interface DeploymentsTable {
  version: string
  bundle: string
  sha256: string
  created_at: number
  activated_at: number | null
  active: number
}

export interface CacheStampsTable {
  type: string
  at: number
}

export interface CacheTagsTable {
  tag: string
  key: string
}
