/**
 * `bac deploy [entry] --to URL`: bundle the business (esbuild: one ES module with everything it
 * imports) and send it, with its version, to a `bac start` server, which stores it and makes it
 * active. Runs in flight stay on the version they started on.
 *
 * @example
 * bac deploy --to https://bac.example.com --key $BAC_API_KEY
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { businessName, resolveEntry } from '@bac/runtime'
import { build } from 'esbuild'
import semver from 'semver'
import { request, targetOf } from '../client.ts'
import { args, type Command, UsageError } from '../command.ts'

const usage = `Usage: bac deploy [entry] --to URL [--version V] [--key KEY]

Bundle the business at entry (default: .) and deploy it to a bac start server.

Options:
  --to URL       the server (default: BAC_URL)
  --version V    the version (default: the version in the nearest package.json)
  --key KEY      a deployer or admin key (default: BAC_API_KEY)`

/** The nearest package.json's version. */
function packageVersion(file: string): string | undefined {
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version
  }
  return undefined
}

/** The business as one ES module; its first line names it (`// bac:name=shop`). */
export async function bundle(file: string): Promise<string> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    // CommonJS dependencies inside an ES module still need a require.
    banner: {
      js: `// bac:name=${businessName(file)}\nimport { createRequire as __bacRequire } from 'node:module';\nconst require = __bacRequire(import.meta.url);`,
    },
  })
  const [output] = result.outputFiles
  if (!output) throw new Error('esbuild produced no bundle')
  return output.text
}

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'bundle a business and deploy it to a bac start server',
  usage,
  async run(argv, io) {
    const { values, positionals } = args(argv, {
      to: { type: 'string' },
      version: { type: 'string' },
      key: { type: 'string' },
    })
    if (positionals.length > 1) throw new UsageError(`expected one entry, got ${positionals.join(' ')}`)
    const target = targetOf({ url: values.to, key: values.key })
    const file = resolveEntry(positionals[0] ?? '.')
    const version = values.version ?? packageVersion(file)
    if (!version || !semver.valid(version)) {
      throw new UsageError(
        `a semantic version is needed: --version 1.2.0, or a version in package.json (got ${JSON.stringify(version ?? null)})`,
      )
    }
    io.err(`bundling ${relative(process.cwd(), file) || file}…`)
    const started = performance.now()
    const code = await bundle(file)
    io.err(`bundled ${(code.length / 1024).toFixed(0)} KB in ${Math.round(performance.now() - started)} ms`)
    io.err(`deploying ${version} to ${target.url}…`)
    const sha256 = createHash('sha256').update(code).digest('hex')
    const result = (await request(target, 'POST', '/api/deployments', { version, bundle: code, sha256 })) as {
      version: string
      duplicate: boolean
    }
    io.out(`deployed ${result.version}${result.duplicate ? ' (already there; made active)' : ''} — active`)
    return 0
  },
}
