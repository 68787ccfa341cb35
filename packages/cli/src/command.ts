/**
 * One `bac` verb: its name, a line of help, its usage text and what it does. `run` resolves to
 * the exit code (0 ok, 1 failed); wrong usage throws `UsageError` (exit code 2).
 *
 * @example
 * export const describeCommand: Command = { name: 'describe', summary: '...', usage: '...', run: async (argv, io) => 0 }
 */
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
