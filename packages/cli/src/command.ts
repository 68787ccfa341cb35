/**
 * One `bac` verb: its name, a line of help, its usage text and what it does. `run` resolves to
 * the exit code (0 ok, 1 failed); wrong usage throws `UsageError` (exit code 2).
 *
 * @example
 * export const describeCommand: Command = { name: 'describe', summary: '...', usage: '...', run: async (argv, io) => 0 }
 */
import { parseArgs } from 'node:util'
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

export interface Command {
  readonly name: string
  readonly summary: string
  readonly usage: string
  run(argv: readonly string[], io: Io): Promise<number>
}

export class UsageError extends Error {
  readonly code = 'BAC_USAGE'
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options']

/** `parseArgs` whose mistakes are usage errors (exit code 2), with positionals allowed. */
export function args<O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
