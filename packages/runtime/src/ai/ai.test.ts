/**
 * `ai` and agents through the real `openai` client, against a real OpenAI-compatible server on
 * loopback: structured output and repair, durable calls, the cache, budgets, failover, time
 * limits and fallbacks, the tool loop — and the recorded provider users test with.
 */
import { $, type Agent, AIBudgetError, ai, type Context, isAIOutputError, on, step } from '@bac/sdk'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Runtime } from '../runtime.ts'
import { createRuntime } from '../runtime.ts'
import { sqlite } from '../store/sqlite/sqlite-store.ts'
import { tempFile } from '../store/test-stores.fixture.ts'
import { testRuntime } from '../test-runtime.fixture.ts'
import type { AIConfig } from './ai-config.ts'
import { openaiProvider } from './openai-provider.ts'
import { type OpenAITestServer, startOpenAITestServer } from './openai-test-server.fixture.ts'
import { recordedAI } from './recorded-provider.ts'

let server: OpenAITestServer
beforeAll(async () => {
  server = await startOpenAITestServer()
})
afterAll(() => server.close())

const runtimes: Runtime[] = []
beforeEach(() => {
  server.requests.length = 0
  server.reply(() => ({ content: 'ok' }))
})
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.stop()
})

/** A runtime whose ai is the openai client pointed at the test server. */
async function start(define: () => void, ai: AIConfig = {}) {
  const t = await testRuntime(sqlite({ file: tempFile() }), define, {
    ai: {
      baseURL: server.baseURL,
      apiKey: 'sk-test-secret',
      model: 'test-model',
      prices: { 'test-model': { input: 1, output: 2 } },
      ...ai,
    },
  })
  runtimes.push(t.rt)
  return t
}

describe('ai functions', () => {
  it('ask for structured output with the schema as JSON Schema, and parse the answer', async () => {
    const { rt } = await start(() => {})
    server.reply(() => ({ json: { category: 'billing', confidence: 0.92 } }))
    const answer = await rt.run(() => ai.classify({ text: 'Where is my refund?', categories: ['billing', 'shipping'] }))
    expect(answer).toEqual({ category: 'billing', confidence: 0.92 })
    const [request] = server.requests
    expect(request?.model).toBe('test-model')
    expect(request?.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'classification', schema: { properties: { category: { enum: ['billing', 'shipping'] } } } },
    })
    expect(request?.messages.at(-1)).toEqual({ role: 'user', content: 'Where is my refund?' })
  })

  it('show the model its invalid answer once to repair it, then give up with a typed error', async () => {
    const { rt } = await start(() => {})
    server.script({ json: { category: 'refunds', confidence: 2 } }, { json: { category: 'billing', confidence: 0.7 } })
    expect(await rt.run(() => ai.classify({ text: 'refund?', categories: ['billing', 'shipping'] }))).toEqual({
      category: 'billing',
      confidence: 0.7,
    })
    const repair = server.requests[1]
    expect(repair?.messages.at(-2)).toMatchObject({
      role: 'assistant',
      content: '{"category":"refunds","confidence":2}',
    })
    expect(repair?.messages.at(-1)?.content).toMatch(/^That answer is invalid: .*category/)

    server.script({ content: 'I think billing' }, { content: 'still not JSON' })
    const error = await rt
      .run(() => ai.extract('Ann, 3 seats', z.object({ name: z.string(), seats: z.number() }), { cache: false }))
      .catch((e: unknown) => e)
    expect(isAIOutputError(error)).toBe(true)
    expect(error).toMatchObject({ output: 'still not JSON', message: expect.stringContaining('extraction') })
  })

  it('cover generate, decide, extract, summarize, list, is and the tagged template', async () => {
    const { rt } = await start(() => {})
    server.reply((body) => {
      const system = body.messages[0]?.content ?? ''
      const user = body.messages.at(-1)?.content ?? ''
      if (body.response_format?.json_schema?.name === 'customer-discount')
        return { json: { choice: '10%', reasoning: 'gold tier' } }
      if (body.response_format?.json_schema?.name === 'extraction') return { json: { company: 'Acme', seats: 12 } }
      if (body.response_format?.json_schema?.name === 'list') return { json: { items: ['a', 'b', 'c'] } }
      if (body.response_format?.json_schema?.name === 'answer') return { json: { answer: true } }
      if (body.response_format?.json_schema?.name === 'generate') return { json: { headline: 'Hi' } }
      if (system.startsWith('Summarize')) return { content: `summary (${system})` }
      return { content: `echo: ${user}` }
    })
    const results = await rt.run(async () => ({
      generated: await ai.generate({ prompt: 'Greet', context: { name: 'Ann' } }),
      typed: await ai.generate({ prompt: 'Headline', schema: z.object({ headline: z.string() }) }),
      decision: await ai.decide('customer-discount', { tier: 'gold' }, { options: ['0%', '10%'] }),
      extracted: await ai.extract('Acme wants 12 seats', z.object({ company: z.string(), seats: z.number() })),
      summary: await ai.summarize('long text', { maxWords: 5 }),
      items: await ai.list('three letters', { count: 3 }),
      yes: await ai.is('Is the sky blue?'),
      tagged: await ai`Write a tagline for ${{ name: 'Lamp' }} in ${'English'}`,
    }))
    expect(results).toEqual({
      generated: { text: 'echo: Greet\n\nContext:\n{\n  "name": "Ann"\n}' },
      typed: { headline: 'Hi' },
      decision: { choice: '10%', reasoning: 'gold tier' },
      extracted: { company: 'Acme', seats: 12 },
      summary: 'summary (Summarize the text in at most 5 words. Answer with the summary only.)',
      items: ['a', 'b', 'c'],
      yes: true,
      tagged: 'echo: Write a tagline for {"name":"Lamp"} in English',
    })
  })

  it('are durable steps in a run: a retried run reuses the answer, with tokens and cost in the step', async () => {
    let attempts = 0
    const { rt } = await start(() => {
      on(
        $.Ticket.opened,
        async (ticket: { text: string }) => {
          const reply = await ai.generate({ prompt: `Reply to: ${ticket.text}`, cache: false })
          await step('send', () => {
            if (++attempts === 1) throw new Error('mail server down')
            return reply.text
          })
        },
        { retry: { attempts: 2, initialDelay: 0 } },
      )
    })
    server.reply(() => ({ content: 'Sorry about that!', usage: { prompt: 1000, completion: 500 } }))
    await rt.send($.Ticket.opened, { text: 'broken lamp' })
    await rt.drain()
    expect(attempts).toBe(2)
    expect(server.requests).toHaveLength(1)
    const [run] = await rt.runs.list()
    const detail = await rt.runs.get(run?.id ?? '')
    expect(detail?.status).toBe('completed')
    expect(detail?.steps.find((s) => s.key === '$ai#1')?.result).toEqual({ text: 'Sorry about that!' })
    expect(detail?.steps.find((s) => s.key === '$ai#1/$model#1')?.result).toMatchObject({
      model: 'test-model',
      usage: { inputTokens: 1000, outputTokens: 500 },
      cost: 0.002, // 1000 × $1/M + 500 × $2/M
      cached: false,
      response: { message: { content: 'Sorry about that!' } },
    })
    const text = await rt.metrics.text()
    expect(text).toContain('bac_ai_tokens_total{model="test-model",kind="input"} 1000')
    expect(text).toContain('bac_ai_cost_usd_total{model="test-model"} 0.002')
  })

  it('reuse a cached answer for the same model, prompt and schema, unless told not to', async () => {
    const { rt } = await start(() => {})
    const summarize = (options = {}) => rt.run(() => ai.summarize('The same long text', options))
    expect(await summarize()).toBe('ok')
    expect(await summarize()).toBe('ok')
    expect(server.requests).toHaveLength(1)
    await rt.run(() => ai.summarize('Another text'))
    expect(server.requests).toHaveLength(2)
    await summarize({ cache: false })
    expect(server.requests).toHaveLength(3)
    expect(await rt.metrics.text()).toContain('bac_ai_calls_total{model="test-model",result="cached"} 1')
  })

  it('stop calls with a clear error once a budget is spent', async () => {
    const { rt } = await start(() => {}, { budget: { business: 0.001, period: 'day' } })
    server.reply(() => ({ content: 'pricey', usage: { prompt: 600, completion: 200 } })) // $0.001 a call
    await rt.run(() => ai.summarize('one', { cache: false }))
    const error = await rt.run(() => ai.summarize('two', { cache: false })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AIBudgetError)
    expect((error as Error).message).toBe(
      'the business AI budget of $0.001 is spent ($0.0010 used); no more AI calls until it is raised',
    )
    expect(server.requests).toHaveLength(1)
    // A fallback answers instead, given the error.
    expect(await rt.run(() => ai.summarize('three', { cache: false, fallback: (e) => `no AI: ${e.name}` }))).toBe(
      'no AI: AIBudgetError',
    )
  })

  it('fail over to the next model on a 500, and stop asking a model whose breaker opened', async () => {
    const { rt } = await start(() => {}, {
      models: ['backup-model'],
      circuitBreaker: { threshold: 2, resetAfter: '1m' },
    })
    server.reply((body) =>
      body.model === 'test-model' ? { status: 500, error: 'overloaded' } : { content: `from ${body.model}` },
    )
    for (let i = 0; i < 3; i++) expect(await rt.run(() => ai.summarize(`text ${i}`))).toBe('from backup-model')
    expect(server.requests.map((r) => r.model)).toEqual([
      'test-model',
      'backup-model',
      'test-model',
      'backup-model',
      'backup-model',
    ])
    expect((await rt.health()).breakers).toEqual({ 'ai:test-model': 'open', 'ai:backup-model': 'closed' })
  })

  it('keep to the provider rate limit shared by every worker: over it, calls wait their turn', async () => {
    const { rt, clock } = await start(() => {}, { rateLimit: { limit: 1, window: '10s' } })
    expect(await rt.run(() => ai.summarize('one'))).toBe('ok')
    let second: string | undefined
    const waiting = rt
      .run(() => ai.summarize('two'))
      .then((answer) => {
        second = answer
      })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(second).toBeUndefined()
    expect(server.requests).toHaveLength(1)
    await clock.advance('10s')
    await waiting
    expect(server.requests).toHaveLength(2)
  })

  it('give up on a model past its time limit and answer with the fallback', async () => {
    const { rt, clock } = await start(() => {}, { timeout: '2s' })
    server.reply(() => ({ content: 'too late', delayMs: 300 }))
    const rules = (text: string) => ({ category: text.includes('buy') ? 'sales' : 'support', confidence: 0.6 })
    const answer = rt.run(() =>
      ai.classify({ text: 'I want to buy', categories: ['sales', 'support'], fallback: () => rules('I want to buy') }),
    )
    await new Promise((resolve) => setTimeout(resolve, 50))
    await clock.advance('2s')
    expect(await answer).toEqual({ category: 'sales', confidence: 0.6 })
    expect(server.requests).toHaveLength(1)
  })

  it('check the configuration, and say how to set a provider up when there is none', async () => {
    await expect(
      createRuntime({ business: { name: 'x', handlers: [] } as never, ai: { baseURL: 'not a url' } }),
    ).rejects.toThrow(/createRuntime\(\) ai: baseURL must be/)
    // Whatever this machine's environment says, this runtime has no provider.
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL }
    delete process.env.OPENAI_API_KEY
    delete process.env.OPENAI_BASE_URL
    const t = await testRuntime(sqlite({ file: tempFile() }), () => {}).finally(() => {
      if (saved.key !== undefined) process.env.OPENAI_API_KEY = saved.key
      if (saved.url !== undefined) process.env.OPENAI_BASE_URL = saved.url
    })
    runtimes.push(t.rt)
    await expect(t.rt.run(() => ai.summarize('x'))).rejects.toThrow(/no AI provider is configured: set OPENAI_API_KEY/)
  })

  it('never log the API key', async () => {
    const { rt, logs } = await start(() => {}, { models: ['backup-model'] })
    server.reply((body) =>
      body.model === 'test-model' ? { status: 401, error: 'bad key sk-test-secret' } : { content: 'ok' },
    )
    await rt.run(() => ai.summarize('x'))
    expect(logs.some((l) => l.message === 'an AI model failed; trying the next one')).toBe(true)
    expect(JSON.stringify(logs)).not.toContain('sk-test-secret')
  })
})

describe('ai calls in a run replay exactly', () => {
  /** A handler that runs `body`, then a step that fails once: every ai call is replayed once. */
  const replayed = (body: (ctx: Context) => Promise<unknown>) => {
    const seen: unknown[] = []
    let attempts = 0
    const define = () => {
      on(
        $.Ticket.opened,
        async (_: unknown, ctx: Context) => {
          seen.push(await body(ctx))
          await step('after', () => {
            if (++attempts === 1) throw new Error('flaky')
          })
        },
        { retry: { attempts: 2, initialDelay: 0 } },
      )
    }
    return { define, seen }
  }

  it('a fallback answer is stored: the retry does not ask the model again', async () => {
    const t = replayed(() =>
      ai.classify({
        text: 'buy',
        categories: ['sales', 'support'],
        cache: false,
        fallback: () => ({ category: 'support', confidence: 0.5 }),
      }),
    )
    const { rt } = await start(t.define)
    let n = 0
    server.reply(() => (n++ === 0 ? { status: 500, error: 'down' } : { json: { category: 'sales', confidence: 0.9 } }))
    await rt.send($.Ticket.opened, {})
    await rt.drain()
    expect(t.seen.map((c) => (c as { category: string }).category)).toEqual(['support', 'support'])
    expect(server.requests).toHaveLength(1)
  })

  it('parallel calls keep their own answers, repairs included, however the network orders them', async () => {
    const schema = z.object({ value: z.string() })
    const t = replayed(async () => {
      const [a, b] = await Promise.all([
        ai.extract('AAA', schema, { cache: false }),
        ai.extract('BBB', schema, { cache: false }),
      ])
      return { a, b }
    })
    const { rt } = await start(t.define)
    server.reply((body) => {
      const who = body.messages[1]?.content?.includes('AAA') ? 'A' : 'B'
      if ((body.messages.at(-1)?.content ?? '').startsWith('That answer is invalid'))
        return { json: { value: `repaired ${who}` } }
      return { content: 'not json', delayMs: who === 'A' ? 100 : 0 }
    })
    await rt.send($.Ticket.opened, {})
    await rt.drain()
    const both = { a: { value: 'repaired A' }, b: { value: 'repaired B' } }
    expect(t.seen).toEqual([both, both])
    expect(server.requests).toHaveLength(4)
  })

  it('an outer ctx used inside a step still gets the step’s keys', async () => {
    const t = replayed(async (ctx) => {
      const a = await ctx.step('first', () => ctx.ai.summarize('AAA', { cache: false }))
      const b = await ctx.ai.summarize('BBB', { cache: false })
      return `${a} | ${b}`
    })
    const { rt } = await start(t.define)
    server.reply((body) => ({ content: `summary of ${body.messages.at(-1)?.content}` }))
    await rt.send($.Ticket.opened, {})
    await rt.drain()
    expect(t.seen).toEqual(['summary of AAA | summary of BBB', 'summary of AAA | summary of BBB'])
    expect(server.requests).toHaveLength(2)
  })

  it('an answer that was paid for is kept even if the store then fails to cache it', async () => {
    // The store's cache write fails on purpose: what a locked or unreachable database would do.
    const store = sqlite({ file: tempFile() })
    ;(store.cache as { set: unknown }).set = async () => {
      throw new Error('database is locked')
    }
    const t = await testRuntime(store, () => {}, {
      ai: { baseURL: server.baseURL, apiKey: 'sk-test-secret', model: 'test-model', models: ['backup-model'] },
    })
    runtimes.push(t.rt)
    server.reply((body) => ({ content: `from ${body.model}` }))
    expect(await t.rt.run(() => ai.summarize('x'))).toBe('from test-model')
    expect(server.requests.map((r) => r.model)).toEqual(['test-model'])
  })

  it('models without a model are asked in their order', async () => {
    const { rt } = await start(() => {}, { prices: { 'gpt-4.1': { input: 2, output: 8 } } })
    server.reply((body) =>
      body.model === 'gpt-4.1' ? { status: 503, error: 'busy' } : { content: `from ${body.model}` },
    )
    expect(await rt.run(() => ai.summarize('x', { models: ['gpt-4.1', 'gpt-4o'] }))).toBe('from gpt-4o')
    expect(server.requests.map((r) => r.model)).toEqual(['gpt-4.1', 'gpt-4o'])
  })

  it('an agent budget only tightens the runtime per-run budget', async () => {
    const { rt } = await start(
      () => {
        const agent = $.agent({
          name: 'a',
          instructions: 'x',
          budget: 100,
          maxTurns: 5,
          tools: { t: { handler: () => 1 } },
        })
        on($.Go.now, () => agent.run('go'))
      },
      { budget: { run: 0.0001 } },
    )
    server.reply(() => ({ toolCalls: [{ name: 't', arguments: {} }], usage: { prompt: 1000, completion: 0 } })) // $0.001 a turn
    await rt.send($.Go.now, {})
    await rt.drain()
    expect(server.requests).toHaveLength(1)
  })

  it('a budget refuses a model it cannot price', async () => {
    const { rt } = await start(() => {}, { model: 'my-azure-deployment', budget: { business: 1 } })
    await expect(rt.run(() => ai.summarize('x'))).rejects.toThrow('AI model my-azure-deployment has no price')
    expect(server.requests).toHaveLength(0)
  })

  it('send what the real API takes: no record keywords, reasoning models without max_tokens or temperature', async () => {
    const { rt } = await start(() => {}, { prices: { 'o4-mini': { input: 1, output: 4 } } })
    server.reply(() => ({ json: { percentage: 10 } }))
    expect(await rt.run(() => ai.decide('customer-discount', { tier: 'gold' }))).toEqual({ percentage: 10 })
    server.reply(() => ({ content: 'short' }))
    await rt.run(() => ai.summarize('x', { model: 'o4-mini', maxTokens: 50, temperature: 0.2 }))
    expect(server.requests.at(-1)).toMatchObject({ model: 'o4-mini', max_completion_tokens: 50 })
    expect(server.requests.at(-1)).not.toHaveProperty('temperature')
  })
})

describe('agents', () => {
  /** A support agent with a tool of its own and the built-in `send`; `refunded` collects what it sent. */
  function supportBusiness(refunded: unknown[]) {
    const handle: { agent?: Agent } = {}
    const define = () => {
      handle.agent = $.agent({
        name: 'support',
        instructions: 'Resolve the customer issue.',
        maxTurns: 4,
        tools: {
          lookupOrder: {
            description: 'Find an order',
            input: z.object({ orderId: z.string() }),
            handler: ({ orderId }: { orderId: string }) => ({ orderId, status: 'paid', total: 40 }),
          },
          send: true,
        },
      })
      on($.Order.refunded, (payload) => {
        refunded.push(payload)
      })
    }
    return { define, run: (rt: Runtime, input: unknown) => rt.run(() => handle.agent?.run(input)) }
  }

  it('call tools in a loop until the model answers, each turn a durable step shown by rt.runs', async () => {
    const refunded: unknown[] = []
    const support = supportBusiness(refunded)
    const { rt } = await start(support.define)
    server.script(
      { toolCalls: [{ name: 'lookupOrder', arguments: { order: 'o1' } }] }, // a bad call: the model is told, nothing throws
      { toolCalls: [{ name: 'lookupOrder', arguments: { orderId: 'o1' } }] },
      { toolCalls: [{ name: 'send', arguments: { event: 'Order.refunded', payload: { orderId: 'o1', amount: 40 } } }] },
      { content: 'I refunded order o1 ($40).' },
    )
    expect(await support.run(rt, 'My lamp arrived broken, order o1')).toBe('I refunded order o1 ($40).')
    await rt.drain()
    expect(refunded).toEqual([{ orderId: 'o1', amount: 40 }])

    const first = server.requests[0]
    expect(first?.tools?.map((t) => t.function.name)).toEqual(['lookupOrder', 'send'])
    expect(first?.tools?.[0]?.function.parameters).toMatchObject({
      properties: { orderId: { type: 'string' } },
      required: ['orderId'],
    })
    const second = server.requests[1]
    expect(second?.messages.at(-1)).toMatchObject({
      role: 'tool',
      content: expect.stringContaining('tool lookupOrder input: orderId must be a string'),
    })
    const last = server.requests[3]
    expect(last?.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
      'tool',
    ])
    expect(last?.messages[5]).toMatchObject({ role: 'tool', content: '{"orderId":"o1","status":"paid","total":40}' })

    const [run] = await rt.runs.list({ kind: 'agent' })
    const detail = await rt.runs.get(run?.id ?? '')
    expect(detail?.steps.filter((s) => /^turn-\d+$/.test(s.key)).map((s) => s.key)).toEqual([
      'turn-1',
      'turn-2',
      'turn-3',
      'turn-4',
    ])
    expect(detail?.steps.find((s) => s.key === 'turn-2')?.result).toMatchObject({
      toolCalls: [{ name: 'lookupOrder' }],
      results: [{ name: 'lookupOrder', output: { orderId: 'o1', status: 'paid', total: 40 } }],
    })
  })

  it('stop after maxTurns, and at the run budget', async () => {
    const refunded: unknown[] = []
    const support = supportBusiness(refunded)
    const { rt } = await start(support.define, { budget: { run: 0.0002 } })
    server.reply(() => ({
      toolCalls: [{ name: 'lookupOrder', arguments: { orderId: 'o1' } }],
      usage: { prompt: 10, completion: 5 },
    }))
    await expect(support.run(rt, 'loop forever')).rejects.toThrow(
      'agent "support" used its 4 turns without a final answer',
    )
    expect(server.requests).toHaveLength(4)
    // $0.00017 a turn: the third call would start with $0.00034 spent.
    server.requests.length = 0
    server.reply(() => ({
      toolCalls: [{ name: 'lookupOrder', arguments: { orderId: 'o1' } }],
      usage: { prompt: 150, completion: 10 },
    }))
    await expect(support.run(rt, 'expensive')).rejects.toThrow('the run AI budget of $0.0002 is spent')
    expect(server.requests).toHaveLength(2)
  })

  it('run a service of type agent, its operations and built-ins as tools, within its service budget', async () => {
    let concierge: { run: (message: unknown) => Promise<unknown> } | undefined
    const { rt } = await start(
      () => {
        concierge = $.service({
          name: 'Concierge',
          type: 'agent',
          instructions: 'Help guests with their bookings.',
          tools: ['db.query', 'extend'],
          operations: {
            extend: {
              input: z.object({ booking: z.string(), nights: z.number() }),
              handler: ({ booking, nights }: { booking: string; nights: number }) => `${booking} +${nights}`,
            },
          },
        })
      },
      { budget: { services: { Concierge: 0.0001 } } },
    )
    await rt.db.create('Booking', { $id: 'b1', guest: 'Ann', nights: 2 })
    server.script(
      {
        toolCalls: [{ name: 'db_query', arguments: { type: 'Booking', where: { guest: 'Ann' } } }],
        usage: { prompt: 10, completion: 5 },
      },
      {
        toolCalls: [{ name: 'extend', arguments: { booking: 'b1', nights: 1 } }],
        usage: { prompt: 10, completion: 5 },
      },
      { content: 'Extended b1 by a night.', usage: { prompt: 10, completion: 5 } },
    )
    expect(await rt.run(() => concierge?.run('Can Ann stay one more night?'))).toBe('Extended b1 by a night.')
    expect(server.requests[1]?.messages.at(-1)?.content).toContain('"guest":"Ann"')
    expect(server.requests[2]?.messages.at(-1)).toMatchObject({ role: 'tool', content: '"b1 +1"' })
    // $0.00006 spent of its $0.0001 a month, $0.00002 a call: the next conversation stops when it is spent.
    server.script({
      toolCalls: [{ name: 'extend', arguments: { booking: 'b1', nights: 1 } }],
      usage: { prompt: 10, completion: 5 },
    })
    await expect(rt.run(() => concierge?.run('And another?'))).rejects.toThrow(
      'the service Concierge AI budget of $0.0001 is spent',
    )
  })

  it('ai.agentic works towards a goal with the operations of its service as tools', async () => {
    const issued: string[] = []
    const { rt } = await start(() => {
      $.service({
        name: 'Care',
        operations: {
          refund: {
            input: z.object({ orderId: z.string() }),
            handler: ({ orderId }: { orderId: string }) => {
              issued.push(orderId)
              return 'refunded'
            },
          },
          resolve: (issue: string) =>
            ai.agentic({ goal: 'Resolve the customer issue', tools: ['refund'], context: { issue } }),
        },
      })
    })
    server.script({ toolCalls: [{ name: 'refund', arguments: { orderId: 'o7' } }] }, { content: 'Refunded o7.' })
    expect(await rt.send($.Care.resolve, 'order o7 never came')).toBe('Refunded o7.')
    expect(issued).toEqual(['o7'])
    expect(server.requests[0]?.messages[1]?.content).toBe(
      'Resolve the customer issue\n\nContext:\n{\n  "issue": "order o7 never came"\n}',
    )
  })
})

describe('recordedAI', () => {
  it('answers from fixtures, first match first, and keeps the requests', async () => {
    const provider = recordedAI([
      { match: /refund/i, json: { category: 'billing', confidence: 0.9 }, once: true },
      { match: (request) => request.schema?.name === 'classification', json: { category: 'other', confidence: 0.1 } },
      { content: 'Thanks!' },
    ])
    const t = await testRuntime(sqlite({ file: tempFile() }), () => {}, { ai: { provider } })
    runtimes.push(t.rt)
    const classify = (text: string) =>
      t.rt.run(() => ai.classify({ text, categories: ['billing', 'other'], cache: false }))
    expect(await classify('I want a refund')).toEqual({ category: 'billing', confidence: 0.9 })
    expect(await classify('I want a refund')).toEqual({ category: 'other', confidence: 0.1 })
    expect(await t.rt.run(() => ai`Say thanks`)).toBe('Thanks!')
    expect(provider.calls).toHaveLength(3)
  })

  it('records a real provider once into a file, then replays it without the network', async () => {
    const file = tempFile('ai-recording.json')
    server.reply(() => ({ content: 'recorded answer' }))
    const recording = recordedAI({ file, record: openaiProvider({ baseURL: server.baseURL, apiKey: 'k' }) })
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hello' }] }
    expect((await recording.chat(request)).message.content).toBe('recorded answer')
    const replay = recordedAI({ file })
    expect((await replay.chat(request)).message.content).toBe('recorded answer')
    expect(server.requests).toHaveLength(1)
    await expect(replay.chat({ ...request, messages: [{ role: 'user', content: 'other' }] })).rejects.toThrow(
      /has no answer for "other"/,
    )
  })
})
