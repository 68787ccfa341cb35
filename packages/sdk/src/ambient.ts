/**
 * The ambient verbs: `send`, `step`, `sleep`, `sleepUntil`, `waitForEvent`. Each resolves to
 * the context bound where it is called (the current run), so they work in handlers, operations,
 * saga steps and functions those call, and throw `NoRuntimeError` anywhere else.
 *
 * @example
 * on($.Order.created, async (order) => {
 *   const payment = await send($.Payment.process, { orderId: order.id })  // an operation: its result
 *   await sleep('1h')
 *   const shipped = await waitForEvent($.Order.shipped, { match: { orderId: order.id }, timeout: '7d' })
 *   if (!shipped) await send($.Order.delayed, { orderId: order.id })    // an event: its id
 * })
 */
import { current, type StepOptions, type WaitForEventOptions } from './context.ts'
import { normalizePattern, type PatternInput } from './pattern.ts'
import { refPath, type SendOptions } from './ref.ts'
import type { Duration, PayloadOfPattern, ResultOf } from './types.ts'

/** Publish an event, or call the operation that implements the verb. Written to the store first. */
export function send<const R extends string>(
  event: R,
  payload: PayloadOfPattern<R>,
  options?: SendOptions,
): Promise<ResultOf<R extends { readonly path: infer P extends string } ? P : R>> {
  return current('send()').send(refPath(event), payload, options) as Promise<never>
}

/** A durable step: runs once; a retried or resumed run gets the stored result. */
export function step<T>(name: string, fn: () => T | Promise<T>, options?: StepOptions): Promise<Awaited<T>> {
  return current(`step('${name}')`).step(name, fn, options)
}

/** Pause the run durably (it survives restarts). */
export function sleep(duration: Duration): Promise<void> {
  return current('sleep()').sleep(duration)
}

export function sleepUntil(when: Date | number | string): Promise<void> {
  return current('sleepUntil()').sleepUntil(when)
}

/** Wait durably for a matching event; `null` when `timeout` passes first. */
export function waitForEvent<const P extends PatternInput>(
  event: P,
  options?: WaitForEventOptions<PayloadOfPattern<P>>,
): Promise<PayloadOfPattern<P> | null> {
  const pattern = normalizePattern(event, 'waitForEvent()')
  return current('waitForEvent()').waitForEvent(
    pattern,
    options as WaitForEventOptions,
  ) as Promise<PayloadOfPattern<P> | null>
}
