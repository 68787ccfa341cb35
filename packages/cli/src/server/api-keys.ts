/**
 * API keys of a `bac start` server. A key is shown once, when made; the store keeps only its
 * SHA-256, with a role that decides what it may do: `reader` reads (runs, events, metrics, the
 * dashboard), `sender` also sends events and calls operations and endpoints, `deployer` also
 * deploys and rolls back, `admin` may do everything (replaying dead letters too).
 *
 * @example
 * const { token } = await createKey(store, { role: 'deployer', name: 'ci' }, Date.now())
 * const key = await verifyKey(store, token) // { id, role, name } or undefined
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Store } from '@bac/runtime'

export const ROLES = ['reader', 'sender', 'deployer', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** What a request needs. */
export type Permission = 'read' | 'send' | 'deploy' | 'operate'

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  reader: ['read'],
  sender: ['read', 'send'],
  deployer: ['read', 'deploy'],
  admin: ['read', 'send', 'deploy', 'operate'],
}

export const allows = (role: Role, permission: Permission): boolean => GRANTS[role].includes(permission)

export interface ApiKey {
  /** A short, public handle (to list and revoke by). */
  readonly id: string
  readonly name: string
  readonly role: Role
  readonly createdAt: number
  readonly revokedAt?: number
}

const SCOPE = 'api-keys'
const hash = (token: string) => createHash('sha256').update(token).digest('hex')

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

export async function createKey(
  store: Store,
  input: { role: Role; name?: string },
  now: number,
): Promise<{ token: string; key: ApiKey }> {
  if (!isRole(input.role))
    throw new TypeError(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(input.role)}`)
  const token = `bac_${input.role}_${randomBytes(24).toString('base64url')}`
  const digest = hash(token)
  const key: ApiKey = { id: digest.slice(0, 12), name: input.name ?? input.role, role: input.role, createdAt: now }
  await store.state.update<ApiKey, void>(SCOPE, digest, () => ({ value: key, result: undefined }), now)
  return { token, key }
}

/** The key a token is, unless unknown or revoked. */
export async function verifyKey(store: Store, token: string): Promise<ApiKey | undefined> {
  const key = await store.state.get<ApiKey>(SCOPE, hash(token))
  return key && key.revokedAt === undefined ? key : undefined
}

export async function listKeys(store: Store): Promise<ApiKey[]> {
  return (await store.state.list<ApiKey>(SCOPE)).map(({ value }) => value).sort((a, b) => a.createdAt - b.createdAt)
}

/** Revoke the key with this id; `false` if there is none. */
export async function revokeKey(store: Store, id: string, now: number): Promise<boolean> {
  const found = (await store.state.list<ApiKey>(SCOPE)).find(
    ({ value }) => value.id === id && value.revokedAt === undefined,
  )
  if (!found) return false
  await store.state.update<ApiKey, void>(
    SCOPE,
    found.key,
    (key) => ({ value: { ...(key as ApiKey), revokedAt: now }, result: undefined }),
    now,
  )
  return true
}
