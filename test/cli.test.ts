import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempFile } from '../packages/runtime/src/store/test-stores.fixture.ts'
import { bac, startBac } from './bac.ts'

describe('the bac command', () => {
  it('runs a business with dev on a SQLite file, and stops cleanly on Ctrl-C', async () => {
    const db = join(tempFile('x'), 'nested', 'dev.db')
    const dev = startBac(['dev', 'examples/shop', '--db', db, '--port', '0'])
    await dev.waitFor('is running')
    expect(existsSync(db)).toBe(true)
    const result = await dev.stop()
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('business example-shop')
    expect(result.stdout).toMatch(
      new RegExp(
        `bac dev: example-shop is running on ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at http://127\\.0\\.0\\.1:\\d+ \\(ready in \\d+ ms; Ctrl-C to stop\\)`,
      ),
    )
    expect(result.stdout).toContain('bac dev: stopping')
  })

  it('lists a business with describe', async () => {
    const result = await bac(['describe', 'examples/shop'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('business example-shop')
    expect(result.stdout).toMatch(
      /placeOrder {2}on Order\.created {2}sends Order\.rejected, Order\.confirmed, Order\.failed/,
    )
    expect(result.stdout).toMatch(/dailyReport {2}day at 6pm \(0 18 \* \* \*\)/)
    expect(result.stdout).toContain(
      'place-order  reserve-inventory↺ → charge-payment↺ → create-shipment↺ → send-confirmation',
    )
  })

  it('prints the listing as JSON with --json', async () => {
    const result = await bac(['describe', 'examples/shop', '--json'])
    expect(result.code).toBe(0)
    const listing = JSON.parse(result.stdout)
    expect(listing.services.map((s: { name: string }) => s.name)).toEqual([
      'InventoryService',
      'PaymentService',
      'ShippingService',
      'EmailService',
    ])
  })

  it('shows help, and exits 2 on wrong usage and 1 on failure', async () => {
    const help = await bac(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Usage: bac <command>/)
    expect((await bac(['describe', '--help'])).stdout).toMatch(/Usage: bac describe \[entry\] \[--json\]/)
    const unknown = await bac(['deplyo'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('bac: unknown command "deplyo"')
    const badFlag = await bac(['describe', '--jsn'])
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toMatch(/bac describe: Unknown option '--jsn'/)
    const sqliteWorkers = await bac(['start', '--workers', '2', '--store', 'x.db'])
    expect(sqliteWorkers.code).toBe(2)
    expect(sqliteWorkers.stderr).toContain('--workers 2 needs a postgres:// --store that the workers share, got')
    const missing = await bac(['describe', 'examples/nowhere'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/bac describe: load\('examples\/nowhere'\): no such file or directory/)
  })
})
