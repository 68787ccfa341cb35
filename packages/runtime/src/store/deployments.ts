/**
 * Deployed versions of a business, kept in the store: each version's bundle (the code a
 * server loads), its hash, when it was deployed and when it last became the active one. A
 * version is written once: deploying it again with the same code is a no-op, with other code
 * an error — a version names one build.
 *
 * @example
 * await store.deployments.save({ version: '1.2.0', bundle, sha256, now })
 * await store.deployments.activate('1.2.0', now)
 */
import type { Kysely } from 'kysely'
import type { Database } from './schema.ts'
import type { DeploymentRecord, DeploymentStore, DeploymentSummary } from './store.ts'

type Write = <T>(job: (tx: Kysely<Database>) => Promise<T>) => Promise<T>
type Notify = (tx: Kysely<Database>) => Promise<void>

/** A second deploy of a version with different code. */
export class VersionConflictError extends Error {
  readonly code = 'BAC_VERSION_CONFLICT'
}

export class KyselyDeployments implements DeploymentStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly write: Write,
    /** Tells other workers the active version changed (PostgreSQL NOTIFY). */
    private readonly notify: Notify = async () => {},
  ) {}

  save(deployment: { version: string; bundle: string; sha256: string; now: number }): Promise<{ duplicate: boolean }> {
    const { version, bundle, sha256, now } = deployment
    return this.write(async (tx) => {
      const existing = await tx
        .selectFrom('bac_deployments')
        .select('sha256')
        .where('version', '=', version)
        .executeTakeFirst()
      if (existing) {
        if (existing.sha256 === sha256) return { duplicate: true }
        throw new VersionConflictError(
          `version ${version} is already deployed with other code (sha256 ${existing.sha256.slice(0, 12)}…); deploy a new version`,
        )
      }
      await tx
        .insertInto('bac_deployments')
        .values({ version, bundle, sha256, created_at: now, activated_at: null, active: 0 })
        .execute()
      return { duplicate: false }
    })
  }

  async list(): Promise<DeploymentSummary[]> {
    const rows = await this.db
      .selectFrom('bac_deployments')
      .select(['version', 'sha256', 'created_at', 'activated_at', 'active'])
      .orderBy('created_at', 'desc')
      .orderBy('version', 'desc')
      .execute()
    return rows.map((row) => ({
      version: row.version,
      sha256: row.sha256,
      createdAt: Number(row.created_at),
      ...(row.activated_at === null ? {} : { activatedAt: Number(row.activated_at) }),
      active: Number(row.active) === 1,
    }))
  }

  async get(version: string): Promise<DeploymentRecord | undefined> {
    const row = await this.db
      .selectFrom('bac_deployments')
      .selectAll()
      .where('version', '=', version)
      .executeTakeFirst()
    if (!row) return undefined
    return {
      version: row.version,
      bundle: row.bundle,
      sha256: row.sha256,
      createdAt: Number(row.created_at),
      ...(row.activated_at === null ? {} : { activatedAt: Number(row.activated_at) }),
      active: Number(row.active) === 1,
    }
  }

  activate(version: string, now: number): Promise<boolean> {
    return this.write(async (tx) => {
      const found = await tx
        .selectFrom('bac_deployments')
        .select('version')
        .where('version', '=', version)
        .executeTakeFirst()
      if (!found) return false
      await tx.updateTable('bac_deployments').set({ active: 0 }).where('active', '=', 1).execute()
      await tx
        .updateTable('bac_deployments')
        .set({ active: 1, activated_at: now })
        .where('version', '=', version)
        .execute()
      await this.notify(tx)
      return true
    })
  }
}
