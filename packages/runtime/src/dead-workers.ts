/**
 * Workers' ids say where their process lives (`host:pid-space:pid:random`), so a worker starting
 * on the same machine can tell that one that held leases has died (a `kill -9`) and give its runs
 * back at once instead of waiting for the leases to expire. Other machines' leases expire.
 *
 * @example
 * const workerId = newWorkerId()
 * await releaseDeadOwners(store, Date.now(), log)
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, readlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import type { Logger } from '@bac/sdk'
import type { Store } from './store/store.ts'

export function newWorkerId(): string {
  return `${hostname()}:${pidSpace()}:${process.pid}:${randomBytes(3).toString('hex')}`
}

/** This process, as `deadOwners` compares owners with it. */
export interface Here {
  readonly host: string
  readonly space: string
  readonly pid: number
}

const here = (): Here => ({ host: hostname(), space: pidSpace(), pid: process.pid })

/** The owners among `owners` that are processes of this pid space no longer alive. */
export function deadOwners(owners: readonly string[], self: Here = here(), alive = processAlive): string[] {
  return owners.filter((owner) => {
    const [host, space, pid] = owner.split(':')
    return host === self.host && space === self.space && pid !== String(self.pid) && !alive(Number(pid))
  })
}

export async function releaseDeadOwners(store: Store, now: number, log: Logger): Promise<void> {
  const dead = deadOwners(await store.leaseOwners(now))
  if (dead.length === 0) return
  const released = await store.releaseOwners(dead, now)
  log.warn('resuming runs of workers that died', { workers: dead, runs: released })
}

/**
 * Where a pid names one process: this boot of this machine (the kernel's boot id — the root pid
 * namespace has the same inode on every Linux host) and this pid namespace (two containers may
 * share a hostname while their pids mean different processes).
 */
export function pidSpace(): string {
  try {
    const namespace = readlinkSync('/proc/self/ns/pid').replace(/\D/g, '')
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')
      .replace(/[^0-9a-f]/g, '')
      .slice(0, 12)
    return `${namespace}-${boot}`
  } catch {
    return '-' // not Linux: the hostname alone
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
