/**
 * `inspect(entry)`: what a business declares and which events each part sends, read from its
 * sources with ts-morph — nothing is run. It finds `on`, `every`, `$.service` (operations,
 * handlers, jobs), `$.saga` and `$.agent`; follows handler bodies into the functions they call
 * (across files); counts as sent `send(ref)`, `ctx.send(ref)`, calling a reference
 * (`$.Email.send(input)`), and db writes (`db.create('Order')` → `Order.created`). Then it
 * warns about events sent that nothing handles, handlers of events nothing sends, and cycles.
 *
 * @example
 * const graph = inspect('examples/shop/index.ts')
 * for (const warning of graph.warnings) console.warn(warning.message)
 */
import { resolve } from 'node:path'
import { businessName } from '@bac/runtime'
import { matches, serviceKey, serviceSubject } from '@bac/sdk/internal'
import {
  type CallExpression,
  type Expression,
  Node,
  type ObjectLiteralExpression,
  Project,
  type SourceFile,
  SyntaxKind,
} from 'ts-morph'

export interface Located {
  readonly file: string
  readonly line: number
}

export interface GraphHandler extends Located {
  readonly name: string
  readonly events: readonly string[]
  readonly sends: readonly string[]
  readonly service?: string
}

export interface GraphSchedule extends Located {
  readonly name: string
  readonly schedule: string
  readonly sends: readonly string[]
}

export interface GraphOperation {
  readonly name: string
  /** The event name a `send` calls it by (`Payment.process`). */
  readonly verb: string
  readonly sends: readonly string[]
}

export interface GraphService extends Located {
  readonly name: string
  readonly operations: readonly GraphOperation[]
}

export interface GraphSaga extends Located {
  readonly name: string
  readonly steps: readonly { readonly name: string; readonly sends: readonly string[] }[]
}

export interface GraphAgent extends Located {
  readonly name: string
  readonly tools: readonly string[]
}

export interface Warning {
  readonly kind: 'unhandled' | 'unsent' | 'cycle'
  readonly message: string
  readonly file?: string
  readonly line?: number
}

export interface Graph {
  readonly business: string
  readonly handlers: readonly GraphHandler[]
  readonly schedules: readonly GraphSchedule[]
  readonly services: readonly GraphService[]
  readonly sagas: readonly GraphSaga[]
  readonly agents: readonly GraphAgent[]
  readonly warnings: readonly Warning[]
}

/** `$.Product.create(...)` and friends are db calls on the noun, and emit its change events. */
const DB_VERBS: Readonly<Record<string, readonly string[]>> = {
  create: ['created'],
  upsert: ['created', 'updated'],
  update: ['updated'],
  delete: ['deleted'],
  batchCreate: ['created'],
  batchUpdate: ['updated'],
  deleteMany: ['deleted'],
}
const READ_VERBS = new Set([
  'get',
  'find',
  'query',
  'findOne',
  'count',
  'list',
  'search',
  'page',
  'stream',
  'aggregate',
])

export function inspect(entry: string): Graph {
  const file = resolve(entry)
  const project = new Project({
    skipAddingFilesFromTsConfig: true,
    compilerOptions: { allowJs: true, allowImportingTsExtensions: true },
  })
  project.addSourceFileAtPath(file)
  project.resolveSourceFileDependencies()
  const files = project.getSourceFiles().filter((f) => !f.getFilePath().includes('/node_modules/'))
  const reader = new Reader(files)
  const graph = reader.read()
  return { business: businessName(file), ...graph, warnings: warningsOf(graph) }
}

class Reader {
  private readonly handlers: GraphHandler[] = []
  private readonly schedules: GraphSchedule[] = []
  private readonly services: GraphService[] = []
  private readonly sagas: GraphSaga[] = []
  private readonly agents: GraphAgent[] = []

  constructor(private readonly files: readonly SourceFile[]) {}

  read() {
    for (const file of this.files) {
      for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) this.declaration(call)
    }
    return {
      handlers: this.handlers,
      schedules: this.schedules,
      services: this.services,
      sagas: this.sagas,
      agents: this.agents,
    }
  }

  /** A declaring call: `on(...)`, `every(...)`, `$.service(...)`, `$.saga(...)`, `$.agent(...)`. */
  private declaration(call: CallExpression): void {
    const callee = call.getExpression().getText()
    const [first, second, third] = call.getArguments()
    const at = located(call)
    if (callee === 'on' && first && second) {
      const events = refsOf(first)
      if (events.length === 0) return
      this.handlers.push({
        name: handlerName(second, third) ?? events.join(', '),
        events,
        sends: sendsOf(second),
        ...at,
      })
    } else if (callee === 'every' && first && second) {
      const schedule = Node.isStringLiteral(first) ? first.getLiteralValue() : first.getText()
      this.schedules.push({ name: handlerName(second, third) ?? schedule, schedule, sends: sendsOf(second), ...at })
    } else if (/^(\$|bac)\.service$/.test(callee) && first && Node.isObjectLiteralExpression(first)) {
      this.service(first, at)
    } else if (/^(\$|bac)\.saga$/.test(callee) && first && Node.isObjectLiteralExpression(first)) {
      const steps = arrayOf(property(first, 'steps')).filter(Node.isObjectLiteralExpression)
      this.sagas.push({
        name: stringOf(property(first, 'name')) ?? 'saga',
        steps: steps.map((step) => ({
          name: stringOf(property(step, 'name')) ?? 'step',
          sends: [...sendsOf(property(step, 'action')), ...sendsOf(property(step, 'compensation'))],
        })),
        ...at,
      })
    } else if (/^(\$|bac)\.agent$/.test(callee) && first && Node.isObjectLiteralExpression(first)) {
      const tools = property(first, 'tools')
      this.agents.push({ name: stringOf(property(first, 'name')) ?? 'agent', tools: toolNames(tools), ...at })
    }
  }

  private service(spec: ObjectLiteralExpression, at: Located): void {
    const name = stringOf(property(spec, 'name')) ?? 'service'
    const subject = refsOf(property(spec, 'subject'))[0] ?? serviceSubject(serviceKey(name))
    const operations: GraphOperation[] = []
    for (const group of ['operations', 'capabilities', 'commands', 'queries']) {
      const object = property(spec, group)
      if (!object || !Node.isObjectLiteralExpression(object)) continue
      for (const member of object.getProperties()) {
        const opName = memberName(member)
        if (!opName) continue
        const body = Node.isPropertyAssignment(member) ? member.getInitializer() : member
        const handler = body && Node.isObjectLiteralExpression(body) ? property(body, 'handler') : body
        const verb = refsOf(body && Node.isObjectLiteralExpression(body) ? property(body, 'verb') : undefined)[0]
        operations.push({ name: opName, verb: verb ?? `${subject}.${opName}`, sends: sendsOf(handler) })
      }
    }
    const handlers = property(spec, 'handlers')
    if (handlers && Node.isObjectLiteralExpression(handlers)) {
      for (const member of handlers.getProperties()) {
        if (!Node.isPropertyAssignment(member)) continue
        const keyNode = member.getNameNode()
        const events = Node.isComputedPropertyName(keyNode) ? refsOf(keyNode.getExpression()) : refsOf(keyNode)
        const handler = member.getInitializer()
        if (events.length > 0 && handler) {
          this.handlers.push({
            name: `${name}: ${events.join(', ')}`,
            events,
            sends: sendsOf(handler),
            service: name,
            ...located(member),
          })
        }
      }
    }
    const jobs = property(spec, 'jobs')
    if (jobs && Node.isObjectLiteralExpression(jobs)) {
      for (const member of jobs.getProperties()) {
        const job = Node.isPropertyAssignment(member) ? member.getInitializer() : undefined
        if (!job || !Node.isObjectLiteralExpression(job)) continue
        const schedule = stringOf(property(job, 'schedule')) ?? ''
        this.schedules.push({
          name: `${name}.${memberName(member)}`,
          schedule,
          sends: sendsOf(property(job, 'handler')),
          ...located(member),
        })
      }
    }
    this.services.push({ name, operations, ...at })
  }
}

function located(node: Node): Located {
  return { file: node.getSourceFile().getFilePath(), line: node.getStartLineNumber() }
}

function property(object: ObjectLiteralExpression, name: string): Expression | undefined {
  const found = object.getProperty(name)
  if (!found) return undefined
  if (Node.isPropertyAssignment(found)) return found.getInitializer()
  if (Node.isShorthandPropertyAssignment(found)) return found.getNameNode()
  if (Node.isMethodDeclaration(found)) return found as unknown as Expression
  return undefined
}

function memberName(member: Node): string | undefined {
  if (
    Node.isPropertyAssignment(member) ||
    Node.isMethodDeclaration(member) ||
    Node.isShorthandPropertyAssignment(member)
  ) {
    const name = member.getNameNode()
    return Node.isStringLiteral(name) ? name.getLiteralValue() : name.getText()
  }
  return undefined
}

function stringOf(node: Node | undefined): string | undefined {
  if (!node) return undefined
  if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue()
  return undefined
}

function arrayOf(node: Node | undefined): Node[] {
  return node && Node.isArrayLiteralExpression(node) ? node.getElements() : []
}

function toolNames(node: Node | undefined): string[] {
  if (!node) return []
  if (Node.isArrayLiteralExpression(node)) return node.getElements().map((e) => stringOf(e) ?? e.getText())
  if (Node.isObjectLiteralExpression(node)) return node.getProperties().map((p) => memberName(p) ?? p.getText())
  return []
}

/**
 * The event names a node stands for: `$.Order.placed`, `shop.Order.placed` (a typed
 * `events(...)` object), `'Order.placed'`, `'$.Order.placed'`, or a list of those.
 */
export function refsOf(node: Node | undefined): string[] {
  if (!node) return []
  if (Node.isArrayLiteralExpression(node)) return node.getElements().flatMap(refsOf)
  const literal = stringOf(node)
  if (literal !== undefined) return [literal.replace(/^\$\./, '')]
  const ref = refPath(node)
  return ref ? [ref] : []
}

/** `$.Order.placed` → `Order.placed`; a chain rooted in `$` or in an `events(...)` object. */
function refPath(node: Node): string | undefined {
  const parts: string[] = []
  let current: Node = node
  while (Node.isPropertyAccessExpression(current)) {
    parts.unshift(current.getName())
    current = current.getExpression()
  }
  if (!Node.isIdentifier(current) || parts.length < 1 || parts.length > 3) return undefined
  return isRefRoot(current) ? parts.join('.') : undefined
}

function isRefRoot(identifier: Node): boolean {
  const text = identifier.getText()
  if (text === '$') return true
  // A typed events object: `const shop = events(schemas)`.
  const declaration =
    identifier.getSymbol()?.getAliasedSymbol()?.getValueDeclaration() ?? identifier.getSymbol()?.getValueDeclaration()
  if (declaration && Node.isVariableDeclaration(declaration)) {
    const init = declaration.getInitializer()
    return !!init && Node.isCallExpression(init) && init.getExpression().getText() === 'events'
  }
  return false
}

function handlerName(handler: Node, options: Node | undefined): string | undefined {
  if (options && Node.isObjectLiteralExpression(options)) {
    const named = stringOf(property(options, 'name'))
    if (named) return named
  }
  if (Node.isFunctionExpression(handler) || Node.isFunctionDeclaration(handler)) return handler.getName()
  if (Node.isIdentifier(handler)) return handler.getText()
  return undefined
}

/** What a function sends, following the functions it calls in the business's own files. */
export function sendsOf(node: Node | undefined, seen = new Set<Node>()): string[] {
  if (!node || seen.has(node)) return []
  seen.add(node)
  const body = functionOf(node)
  if (!body) return []
  const sends: string[] = []
  for (const call of [
    ...(Node.isCallExpression(body) ? [body] : []),
    ...body.getDescendantsOfKind(SyntaxKind.CallExpression),
  ]) {
    sends.push(...sentBy(call))
    // Follow calls into functions of the business (a helper, a saga's execute...).
    const target = call.getExpression()
    for (const definition of definitionsOf(target)) sends.push(...sendsOf(definition, seen))
  }
  return [...new Set(sends)]
}

/** The function a node is or names (a declaration found through an identifier, across files). */
function functionOf(node: Node): Node | undefined {
  if (
    Node.isArrowFunction(node) ||
    Node.isFunctionExpression(node) ||
    Node.isFunctionDeclaration(node) ||
    Node.isMethodDeclaration(node)
  ) {
    return node
  }
  if (Node.isIdentifier(node)) {
    for (const definition of definitionsOf(node)) {
      const fn = functionOf(definition)
      if (fn) return fn
    }
  }
  if (Node.isVariableDeclaration(node)) {
    const init = node.getInitializer()
    if (init) return functionOf(init) ?? (Node.isCallExpression(init) ? init : undefined)
  }
  return undefined
}

/** Declarations a called expression resolves to, in the business's files. */
function definitionsOf(node: Node): Node[] {
  const target = Node.isPropertyAccessExpression(node) ? node.getExpression() : node
  if (!Node.isIdentifier(target)) return []
  try {
    return target
      .getDefinitionNodes()
      .filter((d) => !d.getSourceFile().getFilePath().includes('/node_modules/'))
      .flatMap((d) => {
        // `OrderSaga.execute(...)`: the saga's steps send what they send.
        if (Node.isVariableDeclaration(d) && Node.isPropertyAccessExpression(node)) {
          const init = d.getInitializer()
          if (init && Node.isCallExpression(init) && /\.saga$/.test(init.getExpression().getText())) {
            const spec = init.getArguments()[0]
            if (spec && Node.isObjectLiteralExpression(spec)) {
              return arrayOf(property(spec, 'steps'))
                .filter(Node.isObjectLiteralExpression)
                .flatMap((step) => [property(step, 'action'), property(step, 'compensation')])
                .filter((n): n is Expression => n !== undefined)
            }
          }
          return []
        }
        return [d]
      })
  } catch {
    return []
  }
}

/** Events one call sends: `send(ref)`, `x.send(ref)`, `$.Email.send(...)`, `db.create('Order')`. */
function sentBy(call: CallExpression): string[] {
  const callee = call.getExpression()
  const [first] = call.getArguments()
  const calleeRef = refPath(callee)
  if (calleeRef) {
    const [noun, verb] = calleeRef.split('.')
    if (noun && verb && DB_VERBS[verb]) return DB_VERBS[verb].map((change) => `${noun}.${change}`)
    if (verb && READ_VERBS.has(verb)) return []
    return [calleeRef]
  }
  const name = Node.isPropertyAccessExpression(callee) ? callee.getName() : callee.getText()
  if (name === 'send' || name === 'publish') return refsOf(first)
  // db.create('Order', ...), ctx.db.update($.Order, ...)
  if (Node.isPropertyAccessExpression(callee) && DB_VERBS[name] && /(^|\.)db$/.test(callee.getExpression().getText())) {
    const type = refsOf(first)[0]?.split('.')[0] ?? stringOf(first)
    return type ? (DB_VERBS[name] ?? []).map((change) => `${type}.${change}`) : []
  }
  return []
}

function warningsOf(graph: Omit<Graph, 'warnings' | 'business'>): Warning[] {
  const warnings: Warning[] = []
  const verbs = new Set(graph.services.flatMap((s) => s.operations.map((o) => o.verb)))
  const patterns = graph.handlers.flatMap((h) => h.events)
  const senders: { name: string; sends: readonly string[]; at?: Located }[] = [
    ...graph.handlers.map((h) => ({ name: `handler ${h.name}`, sends: h.sends, at: h })),
    ...graph.schedules.map((s) => ({ name: `schedule ${s.name}`, sends: s.sends, at: s })),
    ...graph.services.flatMap((s) => s.operations.map((o) => ({ name: `${s.name}.${o.name}`, sends: o.sends, at: s }))),
    ...graph.sagas.flatMap((s) =>
      s.steps.map((step) => ({ name: `saga ${s.name} step ${step.name}`, sends: step.sends, at: s })),
    ),
  ]
  const isChange = (event: string) => /\.(created|updated|deleted)$/.test(event)
  for (const sender of senders) {
    for (const event of sender.sends) {
      if (verbs.has(event) || patterns.some((p) => matches(p, event)) || isChange(event)) continue
      warnings.push({
        kind: 'unhandled',
        message: `${sender.name} sends ${event}, which nothing handles`,
        ...(sender.at ? { file: sender.at.file, line: sender.at.line } : {}),
      })
    }
  }
  const sent = senders.flatMap((s) => s.sends)
  for (const handler of graph.handlers) {
    for (const pattern of handler.events) {
      if (pattern.includes('*') || sent.some((event) => matches(pattern, event))) continue
      warnings.push({
        kind: 'unsent',
        message: `handler ${handler.name} handles ${pattern}, which nothing in the business sends (sent from outside?)`,
        file: handler.file,
        line: handler.line,
      })
    }
  }
  warnings.push(...cycles(graph, verbs))
  return dedupe(warnings)
}

/** Event → handler → event loops (a handler that, through others, triggers itself). */
function cycles(graph: Omit<Graph, 'warnings' | 'business'>, verbs: ReadonlySet<string>): Warning[] {
  const operations = new Map(graph.services.flatMap((s) => s.operations.map((o) => [o.verb, o.sends] as const)))
  const next = (sends: readonly string[]): string[] =>
    sends.flatMap((event) => [
      ...graph.handlers.filter((h) => h.events.some((p) => matches(p, event))).map((h) => h.name),
      ...(verbs.has(event) ? [`op:${event}`] : []),
    ])
  const sendsOf = (node: string) =>
    node.startsWith('op:')
      ? (operations.get(node.slice(3)) ?? [])
      : (graph.handlers.find((h) => h.name === node)?.sends ?? [])
  const found: Warning[] = []
  for (const start of graph.handlers) {
    const path: string[] = []
    const visit = (node: string): boolean => {
      if (path.includes(node)) {
        if (node === start.name) {
          found.push({
            kind: 'cycle',
            message: `cycle: ${[...path, node].map((n) => n.replace(/^op:/, '')).join(' → ')}`,
            file: start.file,
            line: start.line,
          })
          return true
        }
        return false
      }
      path.push(node)
      const hit = next(sendsOf(node)).some(visit)
      path.pop()
      return hit
    }
    visit(start.name)
  }
  return found
}

function dedupe(warnings: Warning[]): Warning[] {
  const seen = new Set<string>()
  return warnings.filter((w) => {
    const key = w.kind === 'cycle' ? [...w.message.split(' → ')].sort().join() : w.message
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
