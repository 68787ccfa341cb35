/**
 * `bac send <Event.name> [json]`: publish an event to a running server; `bac call
 * <Service.operation> [json]`: call an operation and print its result. The payload is the JSON
 * argument, or `--file`, or nothing.
 *
 * @example
 * bac send Order.placed '{"orderId":"o1","total":10}'
 * bac call InventoryService.check '{"sku":"lamp"}'
 */
import { readFileSync } from 'node:fs'
import { request, targetOf } from '../client.ts'
import { args, type Command, UsageError } from '../command.ts'

export const remote = { url: { type: 'string' }, key: { type: 'string' } } as const
export const REMOTE_OPTIONS = `  --url URL    the server (default: BAC_URL, else the bac dev running here)
  --key KEY    an API key (default: BAC_API_KEY; bac start needs one)`

function payloadOf(json: string | undefined, file: string | undefined): unknown {
  if (json !== undefined && file !== undefined)
    throw new UsageError('give the payload as an argument or with --file, not both')
  const text = file !== undefined ? readFileSync(file, 'utf8') : json
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`the payload is not valid JSON: ${(error as Error).message}`)
  }
}

export const sendCommand: Command = {
  name: 'send',
  summary: 'publish an event to a running business',
  usage: `Usage: bac send <Event.name> [json] [--file FILE] [--idempotency-key K]

Publish an event; prints its id.

Options:
  --file FILE              read the payload from a JSON file
  --idempotency-key K      a second send with the same key is the first
${REMOTE_OPTIONS}`,
  async run(argv, io) {
    const { values, positionals } = args(argv, {
      ...remote,
      file: { type: 'string' },
      'idempotency-key': { type: 'string' },
    })
    const [name, json, ...extra] = positionals
    if (!name || extra.length > 0) throw new UsageError('expected an event name and at most one JSON payload')
    const target = targetOf(values)
    const payload = payloadOf(json, values.file)
    const key = values['idempotency-key']
    const path = `/events/${encodeURIComponent(name)}`
    const { id } = (await request(target, 'POST', path, payload ?? {}, key ? { 'idempotency-key': key } : {})) as {
      id: string
    }
    io.out(id)
    return 0
  },
}

export const callCommand: Command = {
  name: 'call',
  summary: 'call an operation of a running business and print its result',
  usage: `Usage: bac call <Service.operation> [json] [--file FILE] [--version RANGE]

Options:
  --file FILE        read the input from a JSON file
  --version RANGE    the service version range, e.g. ^2
${REMOTE_OPTIONS}`,
  async run(argv, io) {
    const { values, positionals } = args(argv, { ...remote, file: { type: 'string' }, version: { type: 'string' } })
    const [name, json, ...extra] = positionals
    const match = name ? /^(.+)\.([^.]+)$/.exec(name) : null
    if (!match || extra.length > 0) throw new UsageError('expected Service.operation and at most one JSON input')
    const target = targetOf(values)
    const path = `/rpc/${encodeURIComponent(match[1] ?? '')}/${encodeURIComponent(match[2] ?? '')}`
    const headers: Record<string, string> = values.version ? { 'x-bac-version': values.version } : {}
    const response = await request(target, 'POST', path, payloadOf(json, values.file) ?? null, headers)
    io.out(JSON.stringify((response as { result: unknown }).result, null, 2))
    return 0
  },
}
