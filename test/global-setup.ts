/**
 * Scratch PostgreSQL schemas that tests create (`bac_test_<run>_<time>_<random>`): each test run
 * drops its own at its end, and at its start those any run left behind more than a day ago
 * (one killed half-way) — never those of another run going on at the same time.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const DAY = 24 * 60 * 60 * 1000
/** This run's tag, which the test workers (started after this) inherit. */
const run = randomBytes(3).toString('hex')
process.env.BAC_TEST_RUN = run

async function dropSchemas(which: (name: string) => boolean): Promise<void> {
  const url = process.env.BAC_TEST_POSTGRES_URL
  if (!url) return
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bac\\_test\\_%'",
    )
    for (const { nspname } of rows.filter((r) => which(r.nspname)))
      await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** When a schema was made, from its name; an old-style name counts as long ago. */
const madeAt = (name: string): number => Number.parseInt(/^bac_test_[0-9a-z]+_([0-9a-z]+)_/.exec(name)?.[1] ?? '0', 36)

export const setup = () => dropSchemas((name) => Date.now() - madeAt(name) > DAY)
export const teardown = () => dropSchemas((name) => name.startsWith(`bac_test_${run}_`))
