/** `@bac/runtime/sqlite`: the embedded SQLite store. */
export { type SqliteOptions, sqlite, sqlitePragmas } from './sqlite-store.ts'
