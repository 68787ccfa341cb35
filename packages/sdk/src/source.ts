/**
 * Where a declaration was written (`src/orders.ts:12:3`), for error messages and listings.
 * Read from the stack: the first frame outside this package.
 *
 * @example
 * callerSource() // 'examples/shop/index.ts:14:1'
 */
import { dirname, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const SDK_DIR = dirname(fileURLToPath(import.meta.url))
const FRAME = /\(?((?:file:\/\/)?\/[^()\s]+?):(\d+):(\d+)\)?$/

export function callerSource(): string | undefined {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 40
  const stack = new Error().stack ?? ''
  Error.stackTraceLimit = limit
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line.trim())
    if (!match?.[1]) continue
    const file = match[1].replace(/^file:\/\//, '').replace(/\?.*$/, '')
    // Skip the sdk's own frames (but not its tests) and those of libraries and test runners.
    if ((file.startsWith(SDK_DIR) && !file.endsWith('.test.ts')) || file.includes('/node_modules/')) continue
    return `${relative(process.cwd(), file)}:${match[2]}:${match[3]}`
  }
  return undefined
}
