/**
 * The result cache of operations: an in-process LRU in front of the store's shared layer.
 * Entries are keyed by the operation and a hash of its input (or by the key the operation's
 * `cache.key(input)` gives, which `invalidate('products:1')` and `invalidatePattern('products:*')`
 * address), and may carry tags that db writes invalidate (`Product:<id>`, `Product`). The local
 * layer lives briefly (`localTtl`) so workers do not disagree for long after an invalidation.
 *
 * @example
 * const hit = await cache.get(key)
 * if (!hit) await cache.set(key, value, options, ['Product:p1'])
 */
import { createHash } from 'node:crypto'
import type { CacheControl, CacheOptions } from '@bac/sdk'
import { LRUCache } from 'lru-cache'
import type { Clock } from '../clock/clock.ts'
import { PolicyKeyError } from '../errors.ts'
import type { CacheStore } from '../store/store.ts'

/** JSON with object keys sorted, so equal inputs hash equally. */
function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined'
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`
}

/** How long a copy read from the store is trusted here before asking the store again. */
const FROM_STORE_LOCAL_TTL = 1_000

export class ResultCache {
  private readonly local = new LRUCache<string, { readonly value: unknown; readonly expiresAt: number }>({
    max: 10_000,
  })
  /** Called on every lookup (telemetry counts hits and misses). */
  onLookup: (hit: boolean) => void = () => {}

  constructor(
    private readonly store: CacheStore,
    private readonly clock: Clock,
  ) {}

  keyFor(name: string, options: CacheOptions, input: unknown): string {
    if (options.key) {
      try {
        return String(options.key(input))
      } catch (error) {
        throw new PolicyKeyError(`cache.key of "${name}" threw on its input: ${(error as Error)?.message ?? error}`)
      }
    }
    return `${name}:${createHash('sha256').update(stable(input)).digest('hex').slice(0, 32)}`
  }

  async get(key: string): Promise<{ readonly value: unknown } | undefined> {
    const now = this.clock.now()
    const near = this.local.get(key)
    if (near && near.expiresAt > now) {
      this.onLookup(true)
      return { value: near.value }
    }
    const far = await this.store.get(key, now)
    this.onLookup(far !== undefined)
    if (!far) return undefined
    this.local.set(key, { value: far.value, expiresAt: Math.min(now + FROM_STORE_LOCAL_TTL, far.expiresAt) })
    return { value: far.value }
  }

  /**
   * Cache a result — unless `guard` says documents it may have been computed from were written
   * since it began (`types`, `since`): then nothing is cached, and `false`.
   */
  async set(
    key: string,
    value: unknown,
    options: CacheOptions,
    tags: readonly string[] = [],
    guard?: { readonly types: readonly string[]; readonly since: number },
  ): Promise<boolean> {
    const now = this.clock.now()
    const stored = await this.store.set(key, value, now + options.ttl, tags, guard ? { ...guard, now } : undefined)
    if (stored) this.local.set(key, { value, expiresAt: now + Math.min(options.localTtl, options.ttl) })
    return stored
  }

  /** Forget local copies of entries the store has dropped (by a db write's transaction). */
  forget(keys: readonly string[]): void {
    for (const key of keys) this.local.delete(key)
  }

  async invalidate(key: string): Promise<number> {
    this.local.delete(key)
    return (await this.store.invalidate({ keys: [key] })).length
  }

  async invalidatePattern(pattern: string): Promise<number> {
    const matcher = new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    )
    for (const key of [...this.local.keys()]) if (matcher.test(key)) this.local.delete(key)
    return (await this.store.invalidate({ pattern })).length
  }

  /** What `ctx.cache` and `rt.cache` expose. */
  readonly control: CacheControl = {
    invalidate: (key) => this.invalidate(key),
    invalidatePattern: (pattern) => this.invalidatePattern(pattern),
  }
}
