#!/usr/bin/env node
// The `bac` command. The CLI and the businesses it loads are TypeScript; tsx compiles them on
// the fly, so nothing needs building first.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli.ts')
process.exitCode = await main(process.argv.slice(2))
