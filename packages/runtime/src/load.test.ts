import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe } from '@bac/sdk'
import { expect, it, describe as suite } from 'vitest'
import { load } from './load.ts'

const fixture = (name: string) => new URL(`../test-fixtures/${name}`, import.meta.url).pathname

const summary = async (name: string) => {
  const listing = describe(await load(fixture(name)))
  return {
    name: listing.name,
    handlers: listing.handlers.map((h) => h.name),
    services: listing.services.map((s) => s.name),
    schedules: listing.schedules.map((s) => s.name),
  }
}

suite('load', () => {
  it('collects a module’s top-level declarations and those of the modules it imports', async () => {
    expect(await summary('alpha')).toEqual({
      name: 'alpha-shop',
      handlers: ['alphaHandler'],
      services: ['AlphaService'],
      schedules: ['alphaHourly'],
    })
  })

  it('gives a business outside any install (a fresh bac init) the runtime’s @bac/sdk and zod', async () => {
    for (const type of ['module', 'commonjs']) {
      const dir = mkdtempSync(join(tmpdir(), 'bac-fresh-'))
      mkdirSync(join(dir, 'src'))
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `fresh-${type}`, type }))
      writeFileSync(
        join(dir, 'src', 'index.ts'),
        "import $, { on } from '@bac/sdk'\nimport { z } from 'zod'\non($.Greeting.sent, (p: unknown) => z.object({ name: z.string() }).parse(p))\n",
      )
      const business = await load(dir)
      expect([business.name, business.handlers.map((h) => h.name)]).toEqual([`fresh-${type}`, ['Greeting.sent']])
    }
  })

  it('keeps two businesses loaded at once apart', async () => {
    const [alpha, beta] = await Promise.all([summary('alpha'), summary('beta')])
    expect(alpha.handlers).toEqual(['alphaHandler'])
    expect(beta).toEqual({ name: 'beta', handlers: ['betaHandler'], services: ['BetaService'], schedules: [] })
  })

  it('evaluates the module afresh on every load, as a reload needs', async () => {
    const first = await summary('alpha')
    const second = await summary('alpha')
    expect(second).toEqual(first)
  })

  it('returns the definition a module exports with business()', async () => {
    expect(await summary('explicit')).toEqual({
      name: 'explicit-shop',
      handlers: ['recordOrder'],
      services: ['SharedService'],
      schedules: [],
    })
  })

  it('reports a misdeclaration with its place', async () => {
    await expect(load(fixture('broken'))).rejects.toThrow(
      "$.saga('broken') steps[0] ('charge'): a step needs an action, e.g. action: async (input) => ...",
    )
  })

  it('says what is missing when there is no module to load', async () => {
    await expect(load(fixture('nowhere'))).rejects.toThrow(/load\('.*nowhere'\): no such file or directory/)
    await expect(load(fixture(''))).rejects.toThrow(/the directory has none of index\.ts, src\/index\.ts/)
  })
})
