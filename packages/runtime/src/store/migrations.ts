/**
 * Versioned schema migrations, run by kysely's Migrator on `open()` (under its lock, so many
 * workers starting at once migrate once). A database that has a migration this code does not
 * know was migrated by a newer bac: opening it is refused with a message saying so.
 *
 * @example
 * await migrate(db, 'postgres', 'postgres://…')
 */
import { type Kysely, type Migration, Migrator, sql } from 'kysely'

type Dialect = 'sqlite' | 'postgres'

function migrations(dialect: Dialect): Record<string, Migration> {
  const big = dialect === 'postgres' ? 'bigint' : 'integer'
  return {
    '0001_core': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('bac_events')
          .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('idempotency_key', 'text')
          .addColumn('correlation_id', 'text')
          .addColumn('source_run_id', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .execute()
        await db.schema.createIndex('bac_events_name_seq').on('bac_events').columns(['name', 'seq']).execute()
        await db.schema
          .createIndex('bac_events_idempotency')
          .on('bac_events')
          .columns(['name', 'idempotency_key'])
          .unique()
          .where(sql.ref('idempotency_key'), 'is not', null)
          .execute()

        await db.schema
          .createTable('bac_runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('result', 'text')
          .addColumn('error', 'text')
          .addColumn('event_id', 'text')
          .addColumn('parent_id', 'text')
          .addColumn('idempotency_key', 'text')
          .addColumn('concurrency_key', 'text')
          .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('available_at', big, (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_expires_at', big)
          .addColumn('wait', 'text')
          .addColumn('history', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('version', 'text')
          .addColumn('correlation_id', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .addColumn('started_at', big)
          .addColumn('finished_at', big)
          .execute()
        await db.schema
          .createIndex('bac_runs_runnable')
          .on('bac_runs')
          .columns(['status', 'priority desc', 'available_at'])
          .execute()
        await db.schema.createIndex('bac_runs_due').on('bac_runs').columns(['status', 'available_at']).execute()
        await db.schema.createIndex('bac_runs_leases').on('bac_runs').columns(['status', 'lease_expires_at']).execute()
        await db.schema.createIndex('bac_runs_parent').on('bac_runs').column('parent_id').execute()
        await db.schema
          .createIndex('bac_runs_idempotency')
          .on('bac_runs')
          .columns(['name', 'idempotency_key'])
          .unique()
          .where(sql.ref('idempotency_key'), 'is not', null)
          .execute()

        // What waiting runs wait on: an event pattern, or `run:<id>` for a child; one row per key.
        await db.schema
          .createTable('bac_waits')
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('bac_waits_pk', ['key', 'run_id'])
          .execute()
        await db.schema.createIndex('bac_waits_run').on('bac_waits').column('run_id').execute()

        await db.schema
          .createTable('bac_steps')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('result', 'text', (c) => c.notNull())
          .addColumn('started_at', big, (c) => c.notNull())
          .addColumn('finished_at', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('bac_steps_pk', ['run_id', 'key'])
          .execute()

        await db.schema
          .createTable('bac_schedules')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('cron', 'text', (c) => c.notNull())
          .addColumn('timezone', 'text')
          .addColumn('next_at', big, (c) => c.notNull())
          .addColumn('last_fired_at', big)
          .addColumn('missed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
          .execute()

        await db.schema
          .createTable('bac_dead_letters')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull().unique())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('error', 'text', (c) => c.notNull())
          .addColumn('attempts', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .execute()
      },
    },
    '0002_documents': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('bac_documents')
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('data', dialect === 'postgres' ? 'jsonb' : 'text', (c) => c.notNull())
          .addColumn('idempotency_key', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .$call((t) => (dialect === 'postgres' ? t.addColumn('search', sql`tsvector`) : t))
          .addPrimaryKeyConstraint('bac_documents_pk', ['type', 'id'])
          .execute()
        await db.schema
          .createIndex('bac_documents_order')
          .on('bac_documents')
          .columns(['type', 'created_at', 'id'])
          .execute()
        await db.schema.createIndex('bac_documents_id').on('bac_documents').column('id').execute()
        await db.schema
          .createIndex('bac_documents_idempotency')
          .on('bac_documents')
          .columns(['type', 'idempotency_key'])
          .unique()
          .where(sql.ref('idempotency_key'), 'is not', null)
          .execute()
        if (dialect === 'postgres') {
          await sql`create index bac_documents_search on bac_documents using gin (search)`.execute(db)
        } else {
          await sql`create virtual table bac_documents_fts using fts5(type unindexed, id unindexed, content, tokenize = 'porter unicode61')`.execute(
            db,
          )
        }
        await db.schema
          .createTable('bac_relations')
          .addColumn('from_type', 'text', (c) => c.notNull())
          .addColumn('from_id', 'text', (c) => c.notNull())
          .addColumn('predicate', 'text', (c) => c.notNull())
          .addColumn('to_type', 'text', (c) => c.notNull())
          .addColumn('to_id', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('bac_relations_pk', ['from_type', 'from_id', 'predicate', 'to_type', 'to_id'])
          .execute()
        await db.schema
          .createIndex('bac_relations_to')
          .on('bac_relations')
          .columns(['to_type', 'to_id', 'predicate'])
          .execute()
        // Indexes made by createIndex(), so a unique violation can name its fields.
        await db.schema
          .createTable('bac_indexes')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('fields', 'text', (c) => c.notNull())
          .addColumn('is_unique', 'integer', (c) => c.notNull())
          .execute()
      },
    },
    '0003_policies': {
      async up(db: Kysely<unknown>) {
        // Shared policy state (circuit breakers, rate limits): every worker sees the same.
        await db.schema
          .createTable('bac_state')
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('bac_state_pk', ['scope', 'key'])
          .execute()
        await db.schema
          .createTable('bac_cache')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('expires_at', big, (c) => c.notNull())
          .execute()
        await db.schema
          .createTable('bac_cache_tags')
          .addColumn('tag', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('bac_cache_tags_pk', ['tag', 'key'])
          .execute()
        await db.schema.alterTable('bac_runs').addColumn('debounce_key', 'text').execute()
        await db.schema.alterTable('bac_runs').addColumn('trace', 'text').execute()
        await db.schema
          .createIndex('bac_runs_debounce')
          .on('bac_runs')
          .columns(['name', 'debounce_key', 'status'])
          .execute()
      },
    },
    '0004_cache_stamps': {
      async up(db: Kysely<unknown>) {
        // When documents of a type were written: a result computed before then is not cached.
        await db.schema
          .createTable('bac_cache_stamps')
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('at', big, (c) => c.notNull())
          .execute()
        await db.schema.createIndex('bac_cache_stamps_type_at').on('bac_cache_stamps').columns(['type', 'at']).execute()
        await db.schema.createIndex('bac_cache_tags_key').on('bac_cache_tags').column('key').execute()
      },
    },
    '0005_deployments': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('bac_deployments')
          .addColumn('version', 'text', (c) => c.primaryKey())
          .addColumn('bundle', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('activated_at', big)
          .addColumn('active', 'integer', (c) => c.notNull())
          .execute()
      },
    },
    '0006_document_versions': {
      async up(db: Kysely<unknown>) {
        // A document's `$version`: 1 when created, one more on every write (optimistic concurrency).
        await db.schema
          .alterTable('bac_documents')
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
          .execute()
      },
    },
  }
}

/** Whether a SQLite migration failed because another one was migrating the same file. */
const concurrentMigration = (error: unknown): boolean =>
  /already exists|duplicate column|database is locked|SQLITE_BUSY/i.test(String((error as Error)?.message ?? error))

/** Latest migration name this code knows (for messages and tests). */
export const LATEST_MIGRATION = '0006_document_versions'

export async function migrate(db: Kysely<unknown>, dialect: Dialect, where: string): Promise<void> {
  // Kysely looks for its migration tables in any schema; name ours (the connection's current
  // one) so that several bac databases can live in schemas of one PostgreSQL database.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: 'bac_migration',
    migrationLockTableName: 'bac_migration_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
  let { error, results } = await migrator.migrateToLatest()
  // SQLite has no migration lock: a second process (or store) migrating the same new file at
  // the same moment fails on what the first made. Once the first is done there is nothing left.
  for (let attempt = 1; dialect === 'sqlite' && error && attempt < 5 && concurrentMigration(error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
    ;({ error, results } = await migrator.migrateToLatest())
  }
  if (!error) return
  const message = (error as Error).message ?? String(error)
  const missing = /previously executed migration (\S+) is missing/.exec(message)
  if (missing) {
    throw new Error(
      `the bac database at ${where} was migrated by a newer version of bac (it has migration ${missing[1]}, ` +
        `this version knows up to ${LATEST_MIGRATION}); upgrade bac, or point it at another database`,
    )
  }
  const failed = results?.find((r) => r.status === 'Error')
  throw new Error(
    `migrating the bac database at ${where} failed${failed ? ` in ${failed.migrationName}` : ''}: ${message}`,
  )
}
