import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { bindContext } from './context.ts'
import { $, business } from './index.ts'
import { recordingContext } from './recording-context.fixture.ts'

describe('$.agent', () => {
  it('declares an agent with zod-typed, built-in and operation tools', () => {
    const refund = async ({ orderId }: { orderId: string }) => ({ refunded: orderId })
    const definition = business('agents', () => {
      $.agent({
        name: 'support',
        instructions: 'Resolve the issue.',
        model: 'gpt-5',
        tools: {
          refund: { description: 'Refund an order', input: z.object({ orderId: z.string() }), handler: refund },
        },
        maxTurns: 6,
        budget: 0.5,
      })
      $.agent({ name: 'ops', instructions: 'Keep things running.', tools: ['send', 'db.query'] })
      $.service({
        name: 'Customer Support Agent',
        type: 'agent',
        instructions: 'Help customers.',
        capabilities: {
          answerQuestion: { description: 'Answer', handler: async (q: string) => q },
          resolveIssue: async (issue: string) => issue,
          _internal: () => 0,
        },
      })
    })
    expect(definition.agents.map((a) => [a.name, a.model, a.maxTurns, a.budget, a.service])).toEqual([
      ['support', 'gpt-5', 6, 0.5, undefined],
      ['ops', undefined, 10, undefined, undefined],
      ['Customer Support Agent', undefined, 10, undefined, 'Customer Support Agent'],
    ])
    const [support, ops, service] = definition.agents
    expect(support?.tools[0]).toMatchObject({ name: 'refund', builtin: false, description: 'Refund an order' })
    expect(support?.tools[0]?.input?.safeParse({ orderId: 1 }).success).toBe(false)
    expect(ops?.tools).toEqual([
      { name: 'send', builtin: true },
      { name: 'db.query', builtin: true },
    ])
    expect(service?.tools.map((t) => [t.name, t.operation])).toEqual([
      ['answerQuestion', { service: 'Customer Support Agent', name: 'answerQuestion' }],
      ['resolveIssue', { service: 'Customer Support Agent', name: 'resolveIssue' }],
    ])
  })

  it('runs through the bound context', async () => {
    const { context, calls } = recordingContext()
    const agent = $.agent({ name: 'bound-agent', instructions: 'Do it.' })
    await bindContext(context, () => agent.run('hello'))
    expect(calls).toEqual([{ method: 'execute', args: ['agent', 'bound-agent', 'hello', undefined] }])
  })

  it('rejects an agent without instructions, with unknown tools or bad limits', () => {
    const bad = (input: unknown) => () => business('bad', () => $.agent(input as never))
    expect(bad({ name: 'a' })).toThrow(/\$\.agent\('a'\): an agent needs instructions/)
    expect(bad({ name: 'a', instructions: 'x', tools: ['teleport'] })).toThrow(
      /tools: unknown tool "teleport"; known tools are send, call, db\.get, db\.query, db\.search/,
    )
    expect(bad({ name: 'a', instructions: 'x', tools: ['sned'] })).toThrow(
      /unknown tool "sned" \(did you mean "send"\?\)/,
    )
    expect(bad({ name: 'a', instructions: 'x', maxTurns: 0 })).toThrow(
      /maxTurns must be a whole number of at least 1, got 0/,
    )
    expect(bad({ name: 'a', instructions: 'x', budget: -1 })).toThrow(/budget must be a positive number of US dollars/)
    expect(bad({ name: 'a', instructions: 'x', tools: { t: { handler: 'nope' } } })).toThrow(
      /tools\.t: the handler must be a function/,
    )
    expect(bad({ name: 'a', instructions: 'x', tool: [] })).toThrow(/unknown option "tool" \(did you mean "tools"\?\)/)
  })
})
