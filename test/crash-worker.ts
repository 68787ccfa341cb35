/** Worker processes for the crash tests (see fixtures/recovery/worker.ts), and polling. */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('./fixtures/recovery/worker.ts', import.meta.url))

export interface Worker {
  readonly child: ChildProcess
  /** Everything it printed, once it has exited. */
  readonly output: Promise<string>
  /** What it has printed so far. */
  printed(): string
  readonly exited: Promise<number | null>
}

/** Start `worker.ts <fixture> ...args` in its own process. */
export function startWorker(
  fixture: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, fixture, ...args], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, ...env },
  })
  let out = ''
  child.stdout?.on('data', (chunk) => {
    out += chunk
  })
  child.stderr?.on('data', (chunk) => {
    out += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: exited.then(() => out), exited, printed: () => out }
}

/** Poll `condition` until it holds. */
export async function until(condition: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
