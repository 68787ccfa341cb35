/** A dependency policy tests break and mend, counting its calls. */
export function partner() {
  const state = { healthy: false, calls: 0 }
  return {
    state,
    call(input: unknown) {
      state.calls++
      if (!state.healthy) throw new Error('partner is down')
      return { ok: input }
    },
  }
}
