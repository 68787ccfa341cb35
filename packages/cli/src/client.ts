/**
 * The CLI's side of the HTTP APIs: which server (`--url`, else `BAC_URL`, else the `bac dev`
 * running in this directory, from `.bac/dev.json`) with which key (`--key`, else
 * `BAC_API_KEY`), and requests whose errors say what the server said.
 *
 * @example
 * const target = targetOf({ url: values.url, key: values.key })
 * const runs = await request(target, 'GET', '/api/runs?status=failed')
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from './command.ts'

export interface Target {
  readonly url: string
  readonly key?: string
}

/** Where `bac dev` says it listens. */
export const DEV_STATE = join('.bac', 'dev.json')

export function targetOf(
  values: { readonly url?: string | undefined; readonly key?: string | undefined },
  cwd = process.cwd(),
): Target {
  const key = values.key ?? process.env.BAC_API_KEY
  const url = values.url ?? process.env.BAC_URL ?? devUrl(cwd)
  if (!url) {
    throw new UsageError('which server? pass --url (or set BAC_URL), or run `bac dev` in this directory')
  }
  return { url: url.replace(/\/+$/, ''), ...(key ? { key } : {}) }
}

function devUrl(cwd: string): string | undefined {
  const file = join(cwd, DEV_STATE)
  if (!existsSync(file)) return undefined
  return (JSON.parse(readFileSync(file, 'utf8')) as { url?: string }).url
}

/** An error response: its status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export async function request(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(target.key ? { authorization: `Bearer ${target.key}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch (error) {
    throw new Error(
      `cannot reach ${target.url}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`,
    )
  }
  const text = await response.text()
  const parsed = text ? safeJson(text) : undefined
  if (!response.ok) {
    const message = (parsed as { error?: string } | undefined)?.error ?? text
    throw new ApiError(response.status, `${response.status} ${message}`)
  }
  return parsed
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
