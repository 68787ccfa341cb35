/**
 * The dev dashboard in a real browser (Debian's chromium, driven by playwright-core), against
 * `bac dev` on loopback: send an event from the page and watch its run complete, open its
 * timeline, and replay a dead letter once its cause is fixed.
 */
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBac } from './bac.ts'

const CHROMIUM = '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available)
  console.info(`Browser tests skipped: install Debian's chromium (apt-get install -y chromium) to run them (CI does).`)

describe.skipIf(!available)('the dev dashboard', () => {
  const dev = startBac([
    'dev',
    'test/fixtures/dashboard',
    '--port',
    '0',
    '--db',
    join(mkdtempSync(join(tmpdir(), 'bac-ui-')), 'dev.db'),
  ])
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    await dev.waitFor('is running')
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    page = await browser.newPage()
    await page.goto(await dev.url())
    await page.waitForSelector('body[data-ready="true"]')
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await dev.stop()
  })

  const send = async (name: string, payload: unknown) => {
    await page.fill('#send-name', name)
    await page.fill('#send-payload', JSON.stringify(payload))
    await page.click('#send-form button[type="submit"]')
    await expect.poll(() => page.textContent('#send-result')).toMatch(/^sent /)
  }
  const runRow = (name: string, status: string) =>
    page.locator('#runs tbody tr', { hasText: name }).filter({ hasText: status })

  it('sends an event from the page, shows its run complete, and opens its timeline', async () => {
    await expect.poll(() => page.textContent('#business')).toBe('dashboard-fixture')
    await send('Order.created', { id: 'o1' })
    await runRow('placeOrder', 'completed').first().waitFor({ timeout: 10_000 })
    await runRow('placeOrder', 'completed').first().click()
    await page.waitForSelector('#run-section:not([hidden])')
    await expect.poll(() => page.textContent('#run-summary')).toContain('handler placeOrder — completed')
    await expect.poll(() => page.textContent('#timeline')).toContain('charge')
    await expect.poll(() => page.textContent('#timeline')).toContain('"charged":"o1"')
    await expect.poll(() => page.textContent('#events tbody')).toContain('Order.created')
  }, 30_000)

  it('replays a dead letter from the page once its cause is fixed', async () => {
    await send('Task.run', {})
    const letter = page.locator('#dlq tbody tr', { hasText: 'the switch is off' })
    await letter.waitFor({ timeout: 10_000 })
    await send('Switch.flipped', {})
    await runRow('flip', 'completed').first().waitFor({ timeout: 10_000 })
    await letter.locator('button.replay').click()
    await runRow('runTask', 'completed').first().waitFor({ timeout: 10_000 })
    await expect.poll(() => page.textContent('#dlq tbody')).toContain('no dead letters')
    await expect.poll(() => page.textContent('#glance')).toMatch(/dead letters\s*0/)
  }, 30_000)
})
