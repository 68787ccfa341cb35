/**
 * Once per test run: drop the scratch PostgreSQL schemas that tests create (`bac_test_*`), so
 * repeated runs do not pile them up in the test database.
 */
import pg from 'pg'

async function dropScratchSchemas(): Promise<void> {
  const url = process.env.BAC_TEST_POSTGRES_URL
  if (!url) return
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bac\\_test\\_%'",
    )
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`)
  } finally {
    await client.end()
  }
}

export const setup = dropScratchSchemas
export const teardown = dropScratchSchemas
