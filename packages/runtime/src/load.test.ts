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
