/**
 * Deployments on a `bac start` server: a deploy stores a version's bundle in the store, loads
 * it, and makes it the version new runs use; a rollback makes an earlier one active again.
 * Every stored version is loaded at boot, so runs pinned to an older version still finish on
 * its code. A bundle that does not load (a syntax or declaration error) is refused with a 400
 * and changes nothing.
 *
 * @example
 * const deployer = new Deployer(rt, '.bac/deployments', () => rebuildApp())
 * await deployer.boot()
 * await deployer.deploy({ version: '1.2.0', bundle, sha256 })
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type DeploymentSummary, load, type Runtime } from '@bac/runtime'
import { type BusinessDefinition, ValidationError } from '@bac/sdk'
import semver from 'semver'

/** The business name a bundle carries, in its first line (`// bac:name=shop`). */
const NAME = /^\/\/ bac:name=(\S+)/

export interface DeployResult {
  readonly version: string
  readonly active: string
  /** The same version with the same code was deployed before. */
  readonly duplicate: boolean
}

const invalid = (field: string, expected: string, got: unknown) =>
  new ValidationError(`deployment ${field} must be ${expected}, got ${JSON.stringify(got)?.slice(0, 80)}`, [
    { path: field, message: `must be ${expected}`, expected, received: typeof got },
  ])

export class Deployer {
  private readonly loaded = new Map<string, BusinessDefinition>()
  private syncing: Promise<void> = Promise.resolve()

  constructor(
    private readonly rt: Runtime,
    private readonly dir: string,
    /** Called after the active version changed (the HTTP app remounts its endpoints). */
    private readonly onActivate: () => void = () => {},
  ) {
    mkdirSync(dir, { recursive: true })
  }

  /** Load every stored version, oldest first, and activate the one that was active. */
  async boot(): Promise<string | undefined> {
    const deployments = (await this.rt.store.deployments.list()).reverse()
    const active = deployments.find((d) => d.active)?.version
    for (const { version } of deployments) {
      await this.loadStored(version)
      if (version !== active)
        await this.rt.activate(this.loaded.get(version) as BusinessDefinition, { version, active: false })
    }
    if (active) await this.activate(active, false)
    return active
  }

  /**
   * Follow deploys made through other workers: load versions this one lacks and activate the
   * store's active one. Called on their notification (PostgreSQL) and every few seconds.
   */
  async sync(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      const deployments = (await this.rt.store.deployments.list()).reverse()
      for (const { version } of deployments) {
        if (this.loaded.has(version)) continue
        await this.loadStored(version)
        await this.rt.activate(this.loaded.get(version) as BusinessDefinition, { version, active: false })
      }
      const active = deployments.find((d) => d.active)?.version
      if (active && active !== this.rt.versions.active) await this.activate(active, false)
    })
    return this.syncing
  }

  /** Keep in step with the store until the returned function is called. */
  async watch(interval = 5000): Promise<() => Promise<void>> {
    const sync = () => void this.sync().catch(() => {})
    const unlisten = await this.rt.store.listen?.('bac_deploy', sync)
    const timer = setInterval(sync, interval)
    timer.unref()
    return async () => {
      clearInterval(timer)
      await unlisten?.()
    }
  }

  private async loadStored(version: string): Promise<void> {
    const record = await this.rt.store.deployments.get(version)
    if (record) this.loaded.set(version, await this.loadBundle(version, record.bundle))
  }

  async deploy(body: { version?: unknown; bundle?: unknown; sha256?: unknown }): Promise<DeployResult> {
    const { version, bundle, sha256 } = body
    if (typeof version !== 'string' || !semver.valid(version))
      throw invalid('version', 'a semantic version such as 1.2.0', version)
    if (typeof bundle !== 'string' || bundle.trim() === '')
      throw invalid('bundle', 'the bundled business (JavaScript text)', bundle)
    const digest = createHash('sha256').update(bundle).digest('hex')
    if (sha256 !== undefined && sha256 !== digest)
      throw invalid('sha256', `the SHA-256 of the bundle (${digest})`, sha256)
    // Load before storing: a bundle that does not load changes nothing.
    const business = this.loaded.get(version) ?? (await this.loadBundle(version, bundle))
    const { duplicate } = await this.rt.store.deployments.save({ version, bundle, sha256: digest, now: Date.now() })
    this.loaded.set(version, business)
    await this.activate(version)
    return { version, active: version, duplicate }
  }

  /** Make `version` active again — by default the one active before the current one. */
  async rollback(version?: unknown): Promise<{ readonly active: string; readonly previous?: string }> {
    const deployments = await this.rt.store.deployments.list()
    const current = deployments.find((d) => d.active)?.version
    const target =
      version === undefined
        ? deployments
            .filter((d) => d.version !== current && d.activatedAt !== undefined)
            .sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0]?.version
        : String(version)
    if (!target)
      throw invalid('version', 'a version to roll back to (none was active before this one)', version ?? null)
    if (!this.loaded.has(target)) {
      throw invalid(
        'version',
        `one of the deployed versions (${deployments.map((d) => d.version).join(', ') || 'none'})`,
        target,
      )
    }
    await this.activate(target)
    return { active: target, ...(current ? { previous: current } : {}) }
  }

  async versions(): Promise<{ readonly active: string | null; readonly deployments: DeploymentSummary[] }> {
    const deployments = await this.rt.store.deployments.list()
    return { active: deployments.find((d) => d.active)?.version ?? null, deployments }
  }

  private async activate(version: string, record = true): Promise<void> {
    const business = this.loaded.get(version)
    if (!business) throw new Error(`version ${version} is not loaded`)
    if (record) await this.rt.store.deployments.activate(version, Date.now())
    await this.rt.activate(business, { version })
    this.onActivate()
  }

  private async loadBundle(version: string, bundle: string): Promise<BusinessDefinition> {
    const file = join(this.dir, `${version}.mjs`)
    writeFileSync(file, bundle)
    const name = NAME.exec(bundle)?.[1]
    try {
      return await load(file, name ? { name } : {})
    } catch (error) {
      throw new ValidationError(`deployment ${version} does not load: ${(error as Error).message}`, [])
    }
  }
}
