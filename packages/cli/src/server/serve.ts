/**
 * Serve an app on a port (0: any free one) until closed. The app can be swapped while serving
 * — a reload or a deploy remounts the business's endpoints without dropping the port.
 * `serveRuntime` does that for a runtime's app.
 *
 * @example
 * const server = await serveApp(() => app, { host: '127.0.0.1', port: 4400 })
 * console.log(server.url); await server.close()
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { type AppOptions, createApp } from './app.ts'

export interface Served {
  readonly url: string
  close(): Promise<void>
}

export function serveApp(
  app: () => { fetch(request: Request): Response | Promise<Response> },
  options: { readonly host: string; readonly port: number },
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: (request: Request) => app().fetch(request), hostname: options.host, port: options.port },
      (info) => {
        const { port } = info as AddressInfo
        const host = options.host.includes(':') ? `[${options.host}]` : options.host
        resolve({
          url: `http://${host}:${port}`,
          close: () =>
            new Promise<void>((done) => {
              ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
              server.close(() => done())
            }),
        })
      },
    )
    server.once('error', reject)
  })
}

/** The app of a runtime, served; `remount()` rebuilds it after the active definition changed. */
export interface RuntimeServer extends Served {
  remount(): void
}

export async function serveRuntime(
  options: AppOptions,
  where: { readonly host: string; readonly port: number },
): Promise<RuntimeServer> {
  let app = createApp(options)
  const served = await serveApp(() => app, where)
  return {
    ...served,
    remount() {
      app = createApp(options)
    },
  }
}
