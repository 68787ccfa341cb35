/**
 * `bac dev` start-up and reload: time from spawning `bac dev examples/shop` to ready, beside a
 * bare `node` process start measured in the same run; then the time from saving a file to
 * "reloaded", beside an in-process `load()` of the same business (the floor of a reload).
 *
 *   pnpm --filter @bac/bench dev [reloads]
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load } from '@bac/runtime'

const RELOADS = Number(process.argv[2] ?? 5)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BAC = join(ROOT, 'packages/cli/bin/bac.js')
const SHOP = join(ROOT, 'examples/shop')
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN

function nodeStart(): Promise<number> {
  const began = performance.now()
  return new Promise((resolve) =>
    spawn(process.execPath, ['-e', '0']).on('exit', () => resolve(performance.now() - began)),
  )
}

async function devTimes(): Promise<{ ready: number; reloads: number[] }> {
  const began = performance.now()
  const dev = spawn(
    process.execPath,
    [BAC, 'dev', SHOP, '--port', '0', '--db', join(mkdtempSync(join(tmpdir(), 'bac-bench-')), 'dev.db')],
    {
      cwd: ROOT,
    },
  )
  let out = ''
  dev.stdout.on('data', (chunk) => {
    out += chunk
  })
  const until = async (text: string, from: number) => {
    while (!out.slice(from).includes(text)) await new Promise((r) => setTimeout(r, 2))
  }
  await until('is running', 0)
  const ready = performance.now() - began
  const file = join(SHOP, 'reports.ts')
  const source = readFileSync(file, 'utf8')
  const reloads: number[] = []
  try {
    for (let i = 0; i < RELOADS; i++) {
      const mark = out.length
      const saved = performance.now()
      writeFileSync(file, `${source}\n// bench ${i}\n`)
      await until('bac dev: reloaded', mark)
      reloads.push(performance.now() - saved)
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    writeFileSync(file, source)
    dev.kill('SIGINT')
  }
  return { ready, reloads }
}

const nodeMs = median(await Promise.all([nodeStart(), nodeStart(), nodeStart()]))
const loads: number[] = []
for (let i = 0; i < RELOADS; i++) {
  const began = performance.now()
  await load(SHOP)
  loads.push(performance.now() - began)
}
const { ready, reloads } = await devTimes()
const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`
console.log(`bac dev examples/shop, node ${process.version}, ${RELOADS} reloads`)
console.log(`bare node process start            ${fmt(nodeMs)}`)
console.log(`bac dev to ready                   ${fmt(ready)}   (${(ready / nodeMs).toFixed(1)}x a bare node start)`)
console.log(`load() of the shop, in process     ${fmt(median(loads))}   (median)`)
console.log(
  `save to reloaded                   ${fmt(median(reloads))}   (median; ${(median(reloads) / median(loads)).toFixed(1)}x a load)`,
)
