/** `@bac/runtime/postgres`: the PostgreSQL store. */
export { type PostgresOptions, postgres, redactUrl } from './postgres-store.ts'
