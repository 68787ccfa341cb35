/**
 * The events a function visibly sends, read from its source text: `send($.Order.paid, ...)`,
 * `ctx.send('Order.paid', ...)`, `$.Email.send(...)`-style calls are not counted (they may be db
 * calls). Best effort, for listings; `bac inspect` does the full static analysis.
 *
 * @example
 * sendsOf(async (o) => { await send($.Order.paid, o) }) // ['Order.paid']
 */
const PATH = String.raw`[A-Za-z]\w*(?:\.[A-Za-z]\w*)+`
// `send` may appear as `send(`, `ctx.send(` or, after a bundler's rewrite, `(0, mod.send)(`; the
// reference may be `$.A.b`, `mod.$.A.b` or a quoted string.
const SEND = new RegExp(
  String.raw`\bsend\)?\(\s*(?:(?:[\w$]+\.)?\$\.(${PATH})|['"\x60](?:\$\.)?(${PATH})['"\x60])`,
  'g',
)

export function sendsOf(...fns: readonly (((...args: never[]) => unknown) | undefined)[]): string[] {
  const found = new Set<string>()
  for (const fn of fns) {
    if (!fn) continue
    for (const match of Function.prototype.toString.call(fn).matchAll(SEND)) {
      const name = match[1] ?? match[2]
      if (name) found.add(name)
    }
  }
  return [...found]
}
