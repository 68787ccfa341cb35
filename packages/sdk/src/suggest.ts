/**
 * "Did you mean" for misspelt option and key names.
 *
 * @example
 * suggest('retires', ['retry', 'timeout']) // 'retry'
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const candidate of candidates) {
    const a = word.toLowerCase()
    const b = candidate.toLowerCase()
    // A shared stem ("retries" / "retry") is nearly as telling as a one-letter typo — but not
    // more: "timezon" is "timezone", not "timeout".
    const d = Math.min(distance(a, b), sharedPrefix(a, b) >= Math.min(4, a.length, b.length) ? 1.5 : Infinity)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function sharedPrefix(a: string, b: string): number {
  let n = 0
  while (n < a.length && a[n] === b[n]) n++
  return n
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = row
  }
  return previous[b.length] ?? 0
}

/** `' (did you mean "retry"?)'`, or `''` when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const close = suggest(word, candidates)
  return close ? ` (did you mean "${close}"?)` : ''
}

/**
 * Throw-ready text for keys of `value` that are not in `known`, or `undefined` when all are known.
 */
export function unknownKeys(value: object, known: readonly string[], place: string): string | undefined {
  const unknown = Object.keys(value).filter((key) => !known.includes(key))
  if (unknown.length === 0) return undefined
  const list = unknown.map((key) => `"${key}"${didYouMean(key, known)}`).join(', ')
  return `${place}: unknown option ${list}; known options are ${known.join(', ')}`
}
