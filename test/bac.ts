/** Run the real `bac` executable as a child process and collect what it prints. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = fileURLToPath(new URL('../packages/cli/bin/bac.js', import.meta.url))

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Start `bac` and keep it running; `stop()` sends SIGINT and resolves with what it printed. */
export function startBac(args: readonly string[], options: { cwd?: string } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const closed = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return {
    child,
    /** Resolves once stdout contains `text`. */
    async waitFor(text: string, ms = 20_000): Promise<void> {
      const deadline = Date.now() + ms
      while (!stdout.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`bac never printed "${text}":\n${stdout}\n${stderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    stop(): Promise<Result> {
      child.kill('SIGINT')
      return closed
    },
  }
}

export function bac(args: readonly string[], options: { cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
