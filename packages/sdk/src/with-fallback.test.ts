import { describe, expect, it } from 'vitest'
import { isTimeoutError } from './errors.ts'
import { withFallback } from './with-fallback.ts'

// Real timers, kept short: withFallback runs in user code, outside the runtime's clock.
describe('withFallback', () => {
  it('returns the primary’s answer when it is in time', async () => {
    expect(
      await withFallback(
        async () => 'fresh',
        () => 'stale',
        { timeout: '1s' },
      ),
    ).toBe('fresh')
  })

  it('answers with the fallback, given the error, when the primary fails', async () => {
    const seen: string[] = []
    const answer = await withFallback(
      () => Promise.reject(new Error('503')),
      (error) => `stale because ${error.message}`,
      { onFallback: (error) => seen.push(error.message) },
    )
    expect(answer).toBe('stale because 503')
    expect(seen).toEqual(['503'])
  })

  it('gives up on a primary past its timeout and aborts its signal', async () => {
    let signal: AbortSignal | undefined
    const answer = await withFallback(
      (ctx) => {
        signal = ctx.signal
        return new Promise<string>(() => {})
      },
      (error) => (isTimeoutError(error) ? `timed out: ${error.message}` : 'other'),
      { timeout: 20 },
    )
    expect(answer).toBe('timed out: withFallback() primary timed out after 20 ms')
    expect(signal?.aborted).toBe(true)
  })

  it('rejects a bad timeout before calling anything', async () => {
    let called = false
    await expect(
      withFallback(
        () => {
          called = true
          return 1
        },
        () => 2,
        { timeout: 'soon' as never },
      ),
    ).rejects.toThrow(/withFallback\(\) timeout/)
    expect(called).toBe(false)
  })
})
