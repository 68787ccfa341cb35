/**
 * A runtime for tests: a business from a `business()` callback, a fresh store of the given
 * kind, a virtual clock, deterministic jitter, and log lines captured for assertions.
 */
import { business } from '@bac/sdk'
import { afterEach } from 'vitest'
import { virtualClock } from './clock/virtual-clock.ts'
import { jsonLogger } from './json-logger.ts'
import { createRuntime, type Runtime, type RuntimeOptions } from './runtime.ts'
import type { Store } from './store/store.ts'

export interface TestRuntime {
  readonly rt: Runtime
  readonly clock: ReturnType<typeof virtualClock>
  readonly logs: Record<string, unknown>[]
}

export async function testRuntime(
  store: Store,
  define: () => void,
  options: Partial<RuntimeOptions> & { start?: string } = {},
): Promise<TestRuntime> {
  const clock = virtualClock(options.start ?? '2026-03-02T08:00:00Z')
  const logs: Record<string, unknown>[] = []
  const rt = await createRuntime({
    business: business('test', define),
    store,
    clock,
    logger: jsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)), now: clock.now }),
    random: () => 0.5,
    ...options,
  })
  await rt.start()
  return { rt, clock, logs }
}

/**
 * For a describe block: `start(define)` gives a test runtime on a fresh store from `make`, and
 * each one is stopped after its test.
 */
export function testRuntimes(
  make: () => Promise<Store>,
): (define?: () => void, options?: Partial<RuntimeOptions> & { start?: string }) => Promise<TestRuntime> {
  let started: Runtime | undefined
  afterEach(async () => {
    await started?.stop()
    started = undefined
  })
  return async (define = () => {}, options = {}) => {
    const t = await testRuntime(await make(), define, options)
    started = t.rt
    return t
  }
}
