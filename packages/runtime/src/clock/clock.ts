/**
 * Time, as the runtime sees it. Every delay the runtime waits for — retry backoff, `sleep`,
 * timeouts, lease renewal, cron ticks — goes through a `Clock`, so tests can use the virtual
 * clock and advance time instead of waiting for it.
 *
 * @example
 * const timer = clock.setTimer(() => wake(), 5_000)
 * timer.cancel()
 */
export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Call `fn` once `ms` have passed on this clock. */
  setTimer(fn: () => void, ms: number): Timer
}
