/**
 * `bac <command> [options]`: dispatches to `commands/<verb>.ts`. Exit codes: 0 ok, 1 the
 * command failed, 2 wrong usage.
 *
 * @example
 * process.exitCode = await main(['describe', 'examples/shop'])
 */
import { type Command, type Io, UsageError } from './command.ts'
import { deployCommand } from './commands/deploy.ts'
import { describeCommand } from './commands/describe.ts'
import { devCommand } from './commands/dev.ts'
import { dlqCommand } from './commands/dlq.ts'
import { initCommand } from './commands/init.ts'
import { inspectCommand } from './commands/inspect.ts'
import { keysCommand } from './commands/keys.ts'
import { runsCommand } from './commands/runs.ts'
import { callCommand, sendCommand } from './commands/send.ts'
import { startCommand } from './commands/start.ts'
import { rollbackCommand, versionsCommand } from './commands/versions.ts'

const COMMANDS: readonly Command[] = [
  initCommand,
  devCommand,
  startCommand,
  sendCommand,
  callCommand,
  runsCommand,
  dlqCommand,
  deployCommand,
  versionsCommand,
  rollbackCommand,
  keysCommand,
  inspectCommand,
  describeCommand,
]

const consoleIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'bac — run a business written as TypeScript',
    '',
    'Usage: bac <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `bac <command> --help` for its options.',
  ].join('\n')
}

export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help())
    return name === undefined ? 2 : 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    io.err(`bac: unknown command "${name}"\n\n${help()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage)
    return 0
  }
  try {
    return await command.run(rest, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`bac ${command.name}: ${error.message}\n\n${command.usage}`)
      return 2
    }
    io.err(`bac ${command.name}: ${(error as Error).message}`)
    return 1
  }
}
