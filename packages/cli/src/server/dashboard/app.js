// The dev dashboard: polls the server's JSON APIs and renders runs, a run's timeline, dead
// letters, events, schedules and the business. Plain DOM, no build step; every value is set
// as text, never as HTML.

const POLL_MS = 1000
const $ = (selector) => document.querySelector(selector)
const state = { key: localStorage.getItem('bac.key') ?? '', openRun: undefined }

async function api(path, init = {}) {
  const headers = { 'content-type': 'application/json', ...(state.key ? { authorization: `Bearer ${state.key}` } : {}) }
  const response = await fetch(path, { ...init, headers: { ...headers, ...init.headers } })
  if (response.status === 401) {
    askForKey()
    throw new Error('an API key is required')
  }
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text()
  if (!response.ok) throw new Error(body?.error ?? `${response.status}`)
  return body
}

function askForKey() {
  const dialog = $('#key-dialog')
  if (!dialog.open) dialog.showModal()
}
$('#key-form').addEventListener('submit', () => {
  state.key = $('#key-input').value.trim()
  localStorage.setItem('bac.key', state.key)
  refresh()
})

/** A table row of text cells; `onClick` makes it clickable. */
function row(cells, onClick) {
  const tr = document.createElement('tr')
  for (const cell of cells) {
    const td = document.createElement('td')
    if (cell instanceof Node) td.append(cell)
    else td.textContent = cell ?? ''
    tr.append(td)
  }
  if (onClick) {
    tr.classList.add('clickable')
    tr.addEventListener('click', onClick)
  }
  return tr
}

function fill(selector, rows, empty) {
  const body = $(`${selector} tbody`)
  body.replaceChildren(...(rows.length ? rows : [row([empty])]))
}

const short = (value, max = 120) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text === undefined ? '' : text.length > max ? `${text.slice(0, max)}…` : text
}
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '')
const duration = (run) => (run.finishedAt && run.startedAt ? `${run.finishedAt - run.startedAt} ms` : '')

function statusPill(status) {
  const span = document.createElement('span')
  span.className = `pill ${status}`
  span.textContent = status
  return span
}

async function refreshRuns() {
  const runs = await api('/api/runs?limit=50')
  fill(
    '#runs',
    runs.map((run) =>
      row(
        [
          statusPill(run.status),
          run.kind,
          run.name,
          String(run.attempt),
          duration(run),
          time(run.startedAt ?? run.createdAt),
        ],
        () => openRun(run.id),
      ),
    ),
    'no runs yet — send an event',
  )
  for (const tr of $('#runs tbody').children) tr.dataset.status = tr.querySelector('.pill')?.textContent ?? ''
}

async function openRun(id) {
  state.openRun = id
  await refreshRun()
}

/** One line of a run's timeline: a step, an AI call, a saga action or compensation. */
function timelineItem(step, started) {
  const li = document.createElement('li')
  const head = document.createElement('strong')
  head.textContent = step.key
  const at = document.createElement('small')
  at.textContent = ` +${step.finishedAt - started} ms`
  li.append(head, at)
  const detail = document.createElement('div')
  const result = step.result
  if (step.key.includes('$ai#') && result?.usage) {
    li.classList.add('ai')
    detail.textContent = `${result.model}: ${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens, $${result.cost}${result.cached ? ' (cached)' : ''} — ${short(result.response?.message?.content ?? result.response?.message?.toolCalls)}`
  } else if (result && typeof result === 'object' && result.ok === false) {
    li.classList.add('failed')
    detail.textContent = `error: ${result.error?.message}`
  } else {
    if (/compensat|release|refund/i.test(step.key)) li.classList.add('compensation')
    detail.textContent = short(result?.ok === true ? result.value : result)
  }
  li.append(detail)
  return li
}

async function refreshRun() {
  if (!state.openRun) return
  const run = await api(`/api/runs/${state.openRun}`)
  $('#run-section').hidden = false
  $('#run-id').textContent = run.id
  $('#run-summary').textContent = `${run.kind} ${run.name} — ${run.status}, attempt ${run.attempt}${
    run.error ? ` — ${run.error.message}` : ''
  }${run.result !== undefined ? ` — result ${short(run.result)}` : ''}`
  $('#run-summary').dataset.status = run.status
  const started = run.startedAt ?? run.createdAt
  $('#timeline').replaceChildren(...run.steps.map((step) => timelineItem(step, started)))
}
$('#run-close').addEventListener('click', () => {
  state.openRun = undefined
  $('#run-section').hidden = true
})

async function refreshDlq() {
  const letters = await api('/api/dlq')
  fill(
    '#dlq',
    letters.map((letter) => {
      const replay = document.createElement('button')
      replay.textContent = 'Replay'
      replay.className = 'replay'
      replay.addEventListener('click', async (event) => {
        event.stopPropagation()
        await api(`/api/dlq/${letter.id}/replay`, { method: 'POST' })
        refresh()
      })
      return row([letter.name, letter.error?.message, String(letter.attempts?.length ?? ''), replay], () =>
        openRun(letter.runId),
      )
    }),
    'no dead letters',
  )
}

async function refreshEvents() {
  const events = await api('/api/events/latest?limit=30')
  fill(
    '#events',
    events.map((e) => row([String(e.seq), e.name, short(e.payload, 80), time(e.createdAt)])),
    'no events yet',
  )
}

async function refreshSchedules() {
  const schedules = await api('/api/schedules')
  fill(
    '#schedules',
    schedules
      .filter((s) => s.active)
      .map((s) => row([s.name, s.cron, new Date(s.nextAt).toLocaleString(), time(s.lastFiredAt)])),
    'no schedules',
  )
}

async function refreshGlance() {
  const [health, metrics] = await Promise.all([api('/health'), api('/api/metrics')])
  $('#health').textContent = health.status
  $('#health').className = `pill ${health.status}`
  const total = (name, filter = () => true) =>
    (metrics.find((m) => m.name === name)?.values ?? []).filter(filter).reduce((sum, v) => sum + v.value, 0)
  const glance = {
    completed: total('bac_runs_completed_total'),
    failed: total('bac_runs_failed_total'),
    retried: total('bac_runs_retried_total'),
    'queue depth': total('bac_queue_depth'),
    waiting: total('bac_runs_waiting'),
    'dead letters': total('bac_dead_letters'),
    'AI $': Number(total('bac_ai_cost_usd_total').toFixed(4)),
  }
  $('#glance').replaceChildren(
    ...Object.entries(glance).flatMap(([label, value]) => {
      const dt = document.createElement('dt')
      dt.textContent = label
      const dd = document.createElement('dd')
      dd.textContent = String(value)
      return [dt, dd]
    }),
  )
}

async function loadBusiness() {
  const business = await api('/api/business')
  $('#business').textContent = business.name
  document.title = `bac — ${business.name}`
  const names = new Set(business.handlers.flatMap((h) => h.events).filter((e) => !e.includes('*')))
  $('#event-names').replaceChildren(
    ...[...names].map((name) => Object.assign(document.createElement('option'), { value: name })),
  )
  const graph = await api('/api/graph')
  $('#graph').textContent = graph?.text ?? describeBusiness(business)
}

function describeBusiness(business) {
  const lines = [
    ...business.handlers.map(
      (h) => `on ${h.events.join(', ')} → ${h.name}${h.sends?.length ? ` → sends ${h.sends.join(', ')}` : ''}`,
    ),
    ...business.services.map((s) => `service ${s.name}: ${s.operations.map((o) => o.name).join(', ')}`),
    ...business.schedules.map((s) => `every ${s.schedule ?? s.cron} → ${s.name}`),
  ]
  return lines.join('\n')
}

$('#send-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const output = $('#send-result')
  try {
    const payload = JSON.parse($('#send-payload').value || '{}')
    const { id } = await api(`/events/${encodeURIComponent($('#send-name').value.trim())}`, {
      method: 'POST',
      body: JSON.stringify(payload),
    })
    output.textContent = `sent ${id}`
    output.className = 'ok'
    refresh()
  } catch (error) {
    output.textContent = error.message
    output.className = 'error'
  }
})

async function refresh() {
  try {
    await Promise.all([refreshRuns(), refreshDlq(), refreshEvents(), refreshSchedules(), refreshGlance(), refreshRun()])
    document.body.dataset.ready = 'true'
  } catch (error) {
    console.warn(error)
  }
}

loadBusiness()
  .catch((error) => console.warn(error))
  .finally(() => {
    refresh()
    setInterval(refresh, POLL_MS)
  })
