/** Update patches: every operator, and the errors that name the field and operator before anything is written. */
import { describe, expect, it } from 'vitest'
import { applyPatch, parsePatch } from './patch.ts'

const patched = (current: Record<string, unknown>, patch: unknown) =>
  applyPatch(current, parsePatch(patch, 'update(X)'), 'update(X)')

describe('update patches', () => {
  it('sets plain fields and applies every operator, with dotted paths', () => {
    const before = { n: 2, price: 10, low: 5, high: 5, tags: ['a'], gone: 1, address: { city: 'Oslo', zip: '1' } }
    const after = patched(before, {
      name: 'Lamp',
      $inc: { n: 3, 'stats.views': 1 },
      $mul: { price: 1.5 },
      $min: { low: 3 },
      $max: { high: 9 },
      $push: { tags: 'b' },
      $set: { 'address.city': 'Bergen' },
      $unset: { gone: 1, 'address.zip': true },
    })
    expect(after).toEqual({
      n: 5,
      price: 15,
      low: 3,
      high: 9,
      tags: ['a', 'b'],
      name: 'Lamp',
      stats: { views: 1 },
      address: { city: 'Bergen' },
    })
    // The document it was given is left as it was.
    expect(before).toEqual({
      n: 2,
      price: 10,
      low: 5,
      high: 5,
      tags: ['a'],
      gone: 1,
      address: { city: 'Oslo', zip: '1' },
    })
  })

  it('treats missing fields as MongoDB does', () => {
    expect(patched({}, { $inc: { n: 2 }, $mul: { m: 3 }, $min: { lo: 4 }, $max: { hi: 'b' } })).toEqual({
      n: 2,
      m: 0,
      lo: 4,
      hi: 'b',
    })
    expect(patched({}, { $push: { a: 1 }, $addToSet: { b: 2 }, $pull: { c: 3 }, $unset: { 'd.e': 1 } })).toEqual({
      a: [1],
      b: [2],
    })
  })

  it('keeps the smaller or larger of two strings (ISO dates compare in order) and of two numbers', () => {
    const at = new Date('2026-01-02T00:00:00.000Z')
    expect(patched({ first: '2026-03-01T00:00:00.000Z', best: 7 }, { $min: { first: at, best: 9 } })).toEqual({
      first: at.toISOString(),
      best: 7,
    })
  })

  it('adds to sets by value, pushes and pulls lists, and $each adds several', () => {
    const doc = { tags: ['a', 'b'], items: [{ sku: 'x', q: 1 }], scores: [1, 2, 3, 2] }
    expect(
      patched(doc, {
        $addToSet: { tags: { $each: ['b', 'c', 'c'] }, items: { q: 1, sku: 'x' } },
        $pull: { scores: 2 },
      }),
    ).toEqual({ tags: ['a', 'b', 'c'], items: [{ sku: 'x', q: 1 }], scores: [1, 3] })
    expect(patched(doc, { $push: { tags: { $each: ['d', 'e'] } }, $pull: { scores: { $in: [1, 3] } } })).toEqual({
      ...doc,
      tags: ['a', 'b', 'd', 'e'],
      scores: [2, 2],
    })
    expect(patched({ items: [{ sku: 'x', q: 1 }, { sku: 'y' }] }, { $pull: { items: { q: 1, sku: 'x' } } })).toEqual({
      items: [{ sku: 'y' }],
    })
  })

  it('refuses unknown operators and bad operands, naming the field and operator', () => {
    const fails = (patch: unknown) => () => parsePatch(patch, 'update(Counter)')
    expect(fails({ $incr: { n: 1 } })).toThrow(
      'update(Counter): $incr is not an update operator; use $set, $unset, $inc, $mul, $min, $max, $push, $addToSet, $pull',
    )
    expect(fails({ $inc: { n: '1' } })).toThrow('update(Counter): $inc at n needs a number, got "1"')
    expect(fails({ $mul: { n: Number.NaN } })).toThrow('update(Counter): $mul at n needs a number, got NaN')
    expect(fails({ $max: { at: {} } })).toThrow(
      'update(Counter): $max at at needs a number, a string or a Date, got {}',
    )
    expect(fails({ $set: 5 })).toThrow('$set takes an object of fields, such as { $set: { stock: 3 } }, got 5')
    expect(fails({ $push: { tags: { $each: 'a' } } })).toThrow(
      'update(Counter): $push at tags takes { $each: [...] } with a list and nothing else, got {"$each":"a"}',
    )
    expect(fails({ $set: { $id: 'x' } })).toThrow('update(Counter): $id is kept by bac and cannot be changed')
    expect(fails({ $set: { 'a b': 1 } })).toThrow('field name must be dotted names')
    expect(fails({ n: Number.POSITIVE_INFINITY })).toThrow('update(Counter): n must be a finite number, got Infinity')
    expect(fails({ n: 1, $inc: { n: 1 } })).toThrow(
      'update(Counter): n (set) and n ($inc) change the same field; change it once',
    )
    expect(fails({ $set: { a: {} }, $inc: { 'a.b': 1 } })).toThrow('a ($set) and a.b ($inc) change the same field')
    expect(fails(null)).toThrow('update(Counter): a patch is an object of fields and operators, got null')
  })

  it('refuses an operator on a field of the wrong type, naming what is there', () => {
    expect(() => patched({ n: 'five' }, { $inc: { n: 1 } })).toThrow(
      'update(X): $inc at n needs a number there, but n is "five"',
    )
    expect(() => patched({ tags: 'a' }, { $push: { tags: 'b' } })).toThrow(
      'update(X): $push at tags needs a list there, but tags is "a"',
    )
    expect(() => patched({ tags: { a: 1 } }, { $pull: { tags: 'b' } })).toThrow('$pull at tags needs a list there')
    expect(() => patched({ at: 5 }, { $min: { at: '2026' } })).toThrow(
      'update(X): $min at at needs a string (to compare with "2026") there, but at is 5',
    )
    expect(() => patched({ address: 'Oslo' }, { $set: { 'address.city': 'Bergen' } })).toThrow(
      'update(X): $set at address.city needs an object at address, but it is "Oslo"',
    )
  })
  it('reads only a document’s own fields, never what objects inherit, and refuses __proto__', () => {
    expect(patched({}, { $inc: { constructor: 1 }, $push: { toString: 'a' }, $set: { 'valueOf.x': 1 } })).toEqual({
      constructor: 1,
      toString: ['a'],
      valueOf: { x: 1 },
    })
    const fails = (patch: unknown) => () => parsePatch(patch, 'update(X)')
    expect(fails(JSON.parse('{"__proto__":{"evil":1},"b":2}'))).toThrow('update(X): __proto__ cannot be a field name')
    expect(fails({ $set: { '__proto__.x': 5 } })).toThrow('update(X): __proto__ cannot be a field name')
    expect(fails({ $set: { o: JSON.parse('{"__proto__":1}') } })).toThrow('has a field named __proto__')
    expect(({} as Record<string, unknown>).evil).toBeUndefined()
  })

  it('refuses what JSON would store as something else, naming where it is', () => {
    const fails = (patch: unknown) => () => parsePatch(patch, 'update(X)')
    expect(fails({ $set: { o: { x: Number.NaN } } })).toThrow('update(X): $set at o.x must be a finite number, got NaN')
    expect(fails({ $push: { l: { x: Number.POSITIVE_INFINITY } } })).toThrow('$push at l.x must be a finite number')
    expect(fails({ $push: { l: [1, undefined] } })).toThrow('$push at l[1] is undefined, which a JSON list cannot hold')
    expect(fails({ o: { n: 10n } })).toThrow('update(X): o.n cannot be stored as JSON, got a bigint')
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(fails({ $set: { c: cycle } })).toThrow('$set at c.self refers back to itself (a cycle)')
    expect(() => patched({ n: 1e308 }, { $inc: { n: 1e308 } })).toThrow(
      'update(X): $inc at n would make n Infinity, which cannot be stored',
    )
    expect(() => patched({ n: 1e200 }, { $mul: { n: 1e200 } })).toThrow('would make n Infinity')
  })

  it('refuses a patch that changes nothing', () => {
    expect(() => parsePatch({}, 'update(X)')).toThrow(
      'update(X): the patch changes nothing; give it a field or an operator',
    )
    expect(() => parsePatch({ $inc: {} }, 'update(X)')).toThrow(
      'update(X): $inc names no field; give it at least one, such as { $inc: { stock: 3 } }',
    )
  })
})
