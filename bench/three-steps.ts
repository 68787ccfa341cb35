/** The PostgreSQL benchmarks' workload: an event handler of three trivial steps. */
import { $, business, on, step } from '@bac/sdk'

/** `onEnd` is called when a handler's body has run to its end (before its run is settled). */
export function threeSteps(onEnd: (n: number) => void = () => {}) {
  return business('bench', () => {
    on($.Bench.event, async (payload: { n: number }) => {
      const a = await step('a', () => payload.n * 2)
      const b = await step('b', () => a + 1)
      await step('c', () => b * 3)
      onEnd(payload.n)
    })
  })
}
