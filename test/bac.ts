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
export interface BacOptions {
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string>>
}

const spawnBac = (args: readonly string[], options: BacOptions) =>
  spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env } })

export function startBac(args: readonly string[], options: BacOptions = {}) {
  const child = spawnBac(args, options)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const closed = new Promise<Result>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  return {
    child,
    /** Resolves once it has exited, with what it printed. */
    closed,
    /** Resolves once it has printed `text` (on stdout or stderr). */
    async waitFor(text: string, ms = 20_000): Promise<void> {
      const deadline = Date.now() + ms
      while (!stdout.includes(text) && !stderr.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`bac never printed "${text}":\n${stdout}\n${stderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    /** The first http://host:port it printed (a server's address). */
    async url(): Promise<string> {
      await this.waitFor('http://')
      const found = /http:\/\/[\d.]+:\d+/.exec(stdout)?.[0] ?? ''
      return found.replace('0.0.0.0', '127.0.0.1')
    },
    output: () => ({ stdout, stderr }),
    stop(): Promise<Result> {
      child.kill('SIGINT')
      return closed
    },
  }
}

/** Run `bac` to its end. */
export function bac(args: readonly string[], options: BacOptions = {}): Promise<Result> {
  return startBac(args, options).closed
}
