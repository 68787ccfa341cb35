/**
 * `bac init [dir]`: a new business — an event handler, a service, a test, and scripts — ready
 * for `bac dev`.
 *
 * @example
 * bac init my-shop && cd my-shop && bac dev
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { args, type Command, UsageError } from '../command.ts'

const files = (name: string): Record<string, string> => ({
  'package.json': `${JSON.stringify(
    {
      name,
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: { dev: 'bac dev', test: 'vitest run', inspect: 'bac inspect', deploy: 'bac deploy' },
      dependencies: { '@bac/sdk': '^0.1.0', zod: '^4.0.0' },
      devDependencies: { '@bac/cli': '^0.1.0', '@bac/runtime': '^0.1.0', typescript: '^5.9.0', vitest: '^4.0.0' },
    },
    null,
    2,
  )}\n`,
  'tsconfig.json': `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        skipLibCheck: true,
      },
      include: ['src'],
    },
    null,
    2,
  )}\n`,
  '.gitignore': 'node_modules/\n.bac/\n',
  'src/index.ts': `/**
 * ${name}: your business as code. \`bac dev\` runs it; edit and save to reload.
 */
import $, { db, on, send } from '@bac/sdk'
import { z } from 'zod'

export const Greetings = $.service({
  name: 'Greetings',
  operations: {
    compose: {
      input: z.object({ name: z.string().min(1) }),
      handler: ({ name }) => ({ text: \`Hello, \${name}!\` }),
    },
  },
})

on($.Customer.signedUp, async function welcome(customer: { id: string; name: string }) {
  const greeting = await send($.Greetings.compose, { name: customer.name })
  await db.upsert('Customer', { $id: customer.id, name: customer.name, greeting })
  await send($.Customer.welcomed, { id: customer.id })
})
`,
  'src/index.test.ts': `import { createRuntime, load, virtualClock } from '@bac/runtime'
import { sqlite } from '@bac/runtime/sqlite'
import { expect, it } from 'vitest'

it('welcomes a customer who signed up', async () => {
  const rt = await createRuntime({
    business: await load(new URL('.', import.meta.url).pathname),
    store: sqlite({ file: ':memory:' }),
    clock: virtualClock(),
  })
  await rt.start()
  await rt.send('Customer.signedUp', { id: 'c1', name: 'Ann' })
  await rt.drain()
  expect(await rt.db.get('Customer', 'c1')).toMatchObject({ greeting: { text: 'Hello, Ann!' } })
  await rt.stop()
})
`,
  'README.md': `# ${name}

\`\`\`sh
npx bac dev                                              # run it, with a dashboard at http://127.0.0.1:4400
npx bac send Customer.signedUp '{"id":"c1","name":"Ann"}'   # in another terminal
npx bac runs                                             # what ran
npx vitest run                                           # the tests
\`\`\`
`,
})

export const initCommand: Command = {
  name: 'init',
  summary: 'create a new business with a handler, a service, a test and scripts',
  usage: `Usage: bac init [dir]

Create a business in dir (default: .); dir must be empty or not exist yet.`,
  async run(argv, io) {
    const { positionals } = args(argv, {})
    if (positionals.length > 1) throw new UsageError(`expected one directory, got ${positionals.join(' ')}`)
    const dir = resolve(positionals[0] ?? '.')
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      io.err(`bac init: ${dir} is not empty; choose a new directory`)
      return 1
    }
    const name =
      basename(dir)
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-') || 'business'
    for (const [file, text] of Object.entries(files(name))) {
      mkdirSync(join(dir, file, '..'), { recursive: true })
      writeFileSync(join(dir, file), text)
    }
    io.out(`created ${name} in ${dir}\n\n  cd ${positionals[0] ?? '.'}\n  npm install\n  npx bac dev`)
    return 0
  },
}
