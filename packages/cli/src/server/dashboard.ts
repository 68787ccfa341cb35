/**
 * The dev dashboard, served by the app at `/`: a static page (`index.html`, `app.js`,
 * `style.css` beside this file) that reads the JSON APIs. The page itself is public — it holds
 * no data; the APIs it calls need a key on `bac start`, which it asks for.
 *
 * @example
 * dashboard(app)
 */
import { readFileSync } from 'node:fs'
import type { Env, Hono } from 'hono'

const file = (name: string) => readFileSync(new URL(`./dashboard/${name}`, import.meta.url), 'utf8')

export function dashboard<E extends Env>(app: Hono<E>): void {
  const page = file('index.html')
  const script = file('app.js')
  const style = file('style.css')
  app.get('/', (c) => c.html(page))
  app.get('/dashboard/app.js', (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  app.get('/dashboard/style.css', (c) => c.body(style, 200, { 'content-type': 'text/css; charset=utf-8' }))
}
