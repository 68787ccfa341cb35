/**
 * One worker process of scale-out.ts: a runtime on the shared schema, started, executing the
 * three-step handler. It tells its parent (IPC) when each run's completion has committed — the
 * time taken here, at the commit — and, when asked to stop, how many handler bodies it ran, its
 * CPU time, its claim transactions (and how many found nothing) and its calls of each store
 * method. Warnings and errors go to stderr, which the parent reads.
 *
 *   node --import tsx scale-out-worker.ts <url> <concurrency> [pool]
 */
import { createRuntime, jsonLogger } from '@bac/runtime'
import { observedStore, processCpu } from './postgres-bench.ts'
import { threeSteps } from './three-steps.ts'

export type WorkerMessage =
  | { readonly type: 'ready'; readonly pid: number }
  /** Pairs of event number and completion time (ms since the epoch). */
  | { readonly type: 'completed'; readonly runs: readonly (readonly [number, number])[] }
  /** `cpu`: CPU seconds used from ready to stopped; `claims`: claim transactions, `empty` of them found nothing. */
  | {
      readonly type: 'stopped'
      readonly bodies: number
      readonly completions: number
      readonly cpu: number
      readonly claims: number
      readonly empty: number
      /** Calls of each store method. */
      readonly calls: Readonly<Record<string, number>>
    }

const [url, concurrency = '16', pool = '10'] = process.argv.slice(2)
if (!url || !process.send) throw new Error('usage: forked with IPC: scale-out-worker.ts <url> <concurrency> [pool]')
const send = (message: WorkerMessage) => process.send?.(message)

let bodies = 0
let completions = 0
// Sent in small batches; the times are taken at each commit, so batching does not shift them.
let batch: [number, number][] = []
let flushing: NodeJS.Timeout | undefined
const flush = () => {
  clearTimeout(flushing)
  flushing = undefined
  if (batch.length === 0) return
  send({ type: 'completed', runs: batch })
  batch = []
}

const store = observedStore({ url, max: Number(pool) }, (run, at) => {
  completions++
  batch.push([(run.input as { n: number }).n, at])
  flushing ??= setTimeout(flush, 5)
})
// Count claim transactions, and those that found nothing (a wake-up another worker had answered).
let claims = 0
let empty = 0
const claim = store.claim.bind(store)
store.claim = async (request) => {
  const runs = await claim(request)
  claims++
  if (runs.length === 0) empty++
  return runs
}

// Count the runtime's calls of each store method.
const calls: Record<string, number> = {}
const counted = new Proxy(store, {
  get(target, key, receiver) {
    const value = Reflect.get(target, key, receiver)
    if (typeof value !== 'function' || typeof key !== 'string') return value
    return (...args: unknown[]) => {
      calls[key] = (calls[key] ?? 0) + 1
      return value.apply(target, args)
    }
  },
})

const rt = await createRuntime({
  business: threeSteps(() => {
    bodies++
  }),
  store: counted,
  concurrency: Number(concurrency),
  logger: jsonLogger({ level: 'warn' }),
})
await rt.start()

process.on('message', async (message: { type: string }) => {
  if (message.type !== 'stop') return
  await rt.stop()
  flush()
  // Exit once the last message is out (messages are delivered in order).
  const cpu = processCpu() - cpuAtReady
  process.send?.({ type: 'stopped', bodies, completions, cpu, claims, empty, calls } satisfies WorkerMessage, () =>
    process.exit(0),
  )
})
// The parent is gone (killed, crashed): do not linger.
process.on('disconnect', () => process.exit(0))
const cpuAtReady = processCpu()
send({ type: 'ready', pid: process.pid })
