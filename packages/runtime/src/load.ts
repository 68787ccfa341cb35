/**
 * `load(entry)`: import a business module and collect its declarations into a definition.
 * TypeScript is compiled on the fly (tsx). Each load evaluates the module graph afresh, in its
 * own namespace, so loading two businesses — or one business twice, as a dev server reloading
 * a changed file does — never mixes declarations. A module that exports `business(...)` as
 * its default gets that definition; otherwise its top-level declarations (and those of the
 * modules it imports) are the business.
 *
 * @example
 * const business = await load('./examples/shop')
 * const rt = await createRuntime({ business, store: sqlite({ file: '.bac/dev.db' }) })
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import Module, { register } from 'node:module'
import { basename, delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BusinessDefinition } from '@bac/sdk'
import { collect } from '@bac/sdk/internal'
import { tsImport } from 'tsx/esm/api'

/** Files tried, in order, when `entry` is a directory. */
const ENTRY_FILES = ['index.ts', 'src/index.ts', 'bac.config.ts', 'index.js', 'src/index.js']

export interface LoadOptions {
  /** The business name (default: its `business()` name, else the nearest package.json name). */
  readonly name?: string
}

let fallbackRegistered = false

/**
 * Let businesses without their own @bac/sdk or zod use the runtime's: ES modules through a
 * resolve hook (resolve-fallback.mjs), CommonJS ones through Node's global module paths.
 */
function registerFallback(): void {
  if (fallbackRegistered) return
  fallbackRegistered = true
  register(new URL('./resolve-fallback.mjs', import.meta.url), { data: { base: import.meta.url } })
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules')
    if (existsSync(join(modules, '@bac', 'sdk'))) {
      process.env.NODE_PATH = [process.env.NODE_PATH, modules].filter(Boolean).join(delimiter)
      ;(Module as unknown as { _initPaths(): void })._initPaths()
      break
    }
  }
}

export async function load(entry: string, options: LoadOptions = {}): Promise<BusinessDefinition> {
  const file = resolveEntry(entry)
  registerFallback()
  let exported: Record<string, unknown> = {}
  const ambient = await collect(options.name ?? businessName(file), async () => {
    exported = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>
  })
  const explicit = await exported.default
  return isDefinition(explicit) ? explicit : ambient
}

/** The module file of `entry`: itself, or the first entry file of a directory. */
export function resolveEntry(entry: string): string {
  const path = resolve(entry)
  if (!existsSync(path)) throw new Error(`load('${entry}'): no such file or directory (${path})`)
  if (!statSync(path).isDirectory()) return path
  const found = ENTRY_FILES.map((name) => join(path, name)).find((candidate) => existsSync(candidate))
  if (!found) throw new Error(`load('${entry}'): the directory has none of ${ENTRY_FILES.join(', ')}`)
  return found
}

/** The unscoped name of the nearest package.json, else the directory's name. */
export function businessName(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name
      if (typeof name === 'string' && name) return name.replace(/^@[^/]+\//, '')
    }
    if (dirname(dir) === dir) return basename(dirname(file))
  }
}

function isDefinition(value: unknown): value is BusinessDefinition {
  const candidate = value as Partial<BusinessDefinition> | undefined
  return typeof candidate?.name === 'string' && Array.isArray(candidate.handlers) && Array.isArray(candidate.services)
}
