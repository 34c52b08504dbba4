/* pykue dashboard: plain JavaScript over Kue's JSON API, kept live by polling.
 *
 * Safety rule for this file: text from Redis (job data, types, errors, logs) is only ever
 * put into the page through textContent or attribute setters, never through innerHTML.
 */
(function () {
  'use strict';

  const settings = JSON.parse(document.getElementById('settings').textContent);
  const ROOT = settings.root;
  const PAGE = 20;
  const LIST_EVERY = 1500;
  const STATS_EVERY = 1000;
  const DETAIL_EVERY = 1000;
  const METRICS_EVERY = 10000;
  const SEARCH_LIMIT = 200;
  const PRIORITIES = settings.priorities;  // [[value, name], ...] from pykue.states.PRIORITIES
  const STATE_LABELS = Object.fromEntries(settings.states.map((s) => [s.name, s.label]));

  const view = {
    state: settings.state,
    type: settings.type,
    order: settings.order,
    to: PAGE - 1,
    query: '',
    version: 0,
    hasMore: false,
  };
  const rows = new Map();      // job id -> {li, job, detail}
  const selected = new Set();  // job ids
  let lastStats = null;

  // --- small helpers -------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  /* el('span', {class: 'x', title: t}, 'text', child): children that are strings become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return node;
  }

  function svgEl(tag, attrs) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  function icon(name) {
    const paths = {
      requeue: 'M4 10a6 6 0 1 0 2-4.47M4 3v3.5h3.5',
      remove: 'M5 5l10 10M15 5 5 15',
      cancel: 'M4.5 4.5l11 11M17 10a7 7 0 1 1-14 0 7 7 0 0 1 14 0',
      chevron: 'm7 5 5 5-5 5',
    };
    const svg = svgEl('svg', { viewBox: '0 0 20 20', 'aria-hidden': 'true', class: 'icon' });
    svg.append(svgEl('path', { d: paths[name] }));
    return svg;
  }

  class ApiError extends Error {}

  async function request(method, path) {
    // X-Requested-With marks a script's request, as Kue's jQuery UI sent it. The server needs no
    // such header: it refuses only what the browser labels as sent by another site.
    const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
    if (method !== 'GET') headers['Content-Type'] = 'application/json';
    const response = await fetch(ROOT + path, { method, headers, cache: 'no-store', credentials: 'same-origin' });
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { throw new ApiError(`${response.status} ${text.slice(0, 120)}`); }
    // 503: Redis is out of reach. Not an ApiError, so polling shows "Reconnecting…" instead of a toast a second.
    if (response.status === 503) throw new Error(isErrorBody(body) ? body.error : 'Redis unavailable');
    // Kue answers errors as {"error": message}; a failed job's JSON also has an error field.
    if (isErrorBody(body)) throw new ApiError(body.error);
    if (!response.ok) throw new ApiError(`HTTP ${response.status}`);
    return body;
  }
  const getJSON = (path) => request('GET', path);

  function isErrorBody(body) {
    return Boolean(body) && !Array.isArray(body) && typeof body === 'object' && 'error' in body && !('id' in body);
  }

  function enc(text) { return encodeURIComponent(text); }

  function num(value) {
    if (value === undefined || value === null || value === '') return null;
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }

  function formatDuration(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
    ms = Math.max(0, ms);
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
    const h = Math.floor(m / 60);
    if (h < 24) return `${h}h ${m % 60}m`;
    return `${Math.floor(h / 24)}d ${h % 24}h`;
  }

  function ago(ms) {
    const t = num(ms);
    if (t === null) return '';
    const delta = Date.now() - t;
    if (Math.abs(delta) < 5000) return 'just now';
    const span = Math.abs(delta) < 60000 ? `${Math.round(Math.abs(delta) / 1000)} s` : formatDuration(Math.abs(delta));
    return delta > 0 ? `${span} ago` : `in ${span}`;
  }

  function absolute(ms) {
    const t = num(ms);
    return t === null ? '' : new Date(t).toLocaleString();
  }

  function priorityName(p) {
    const found = PRIORITIES.find(([value]) => value === Number(p));
    return found ? found[1] : String(p);
  }

  function jobTitle(job) {
    const data = job.data;
    if (data && typeof data === 'object' && (typeof data.title === 'string' || typeof data.title === 'number')) {
      return { text: String(data.title), untitled: false };
    }
    let preview = '';
    try { preview = JSON.stringify(data); } catch (e) { preview = ''; }
    if (!preview || preview === '{}' || preview === 'null') return { text: 'untitled', untitled: true };
    return { text: preview.length > 90 ? preview.slice(0, 89) + '…' : preview, untitled: true };
  }

  function pretty(value) {
    try { return JSON.stringify(value, null, 2); } catch (e) { return String(value); }
  }

  function progressOf(job) {
    const p = num(job.progress);
    return p === null ? 0 : Math.max(0, Math.min(100, p));
  }

  // --- toasts and the live indicator ----------------------------------------------------

  function toast(message, kind) {
    for (const shown of $('toasts').children) if (shown.textContent === message) return;
    const node = el('div', { class: `toast toast-${kind || 'info'}`, role: kind === 'error' ? 'alert' : 'status' }, message);
    $('toasts').append(node);
    setTimeout(() => node.classList.add('leaving'), 3600);
    setTimeout(() => node.remove(), 4000);
  }

  function setLive(ok) {
    const live = $('live');
    live.classList.toggle('offline', !ok);
    live.querySelector('.live-text').textContent = ok ? 'Live' : 'Reconnecting…';
  }

  /* Run fn now, then again `every` ms after each run finishes (as Kue's UI polls).
   * Calling the returned function polls again at once, never running two fetches together. */
  function poll(fn, every) {
    let timer = null;
    let running = false;
    let again = false;
    const run = async () => {
      if (running) { again = true; return; }
      clearTimeout(timer);
      running = true;
      try {
        if (!document.hidden) await fn();
      } catch (e) {
        if (e instanceof ApiError) toast(e.message, 'error');
        else setLive(false);
      }
      running = false;
      if (again) { again = false; run(); } else timer = setTimeout(run, every);
    };
    document.addEventListener('visibilitychange', () => { if (!document.hidden) run(); });
    run();
    return run;
  }

  // --- stats: the menu counts and the metric cards --------------------------------------

  async function refreshStats() {
    const stats = await getJSON('/stats');
    setLive(true);
    lastStats = stats;
    const here = stats[`${view.state}Count`];
    document.title = `${STATE_LABELS[view.state]}${here ? ` (${here})` : ''} · ${settings.title}`;
    for (const node of document.querySelectorAll('[data-count]')) {
      const value = stats[`${node.dataset.count}Count`];
      if (value !== undefined) node.textContent = String(value);
    }
    const work = num(stats.workTime);
    $('work-time').textContent = work === null ? '–' : formatDuration(work);
    const avg = work !== null && stats.completeCount ? work / stats.completeCount : null;
    $('work-avg').textContent = avg === null ? 'spent on completed jobs' : `avg ${formatDuration(avg)} per completed job`;
  }

  // --- the chart ------------------------------------------------------------------------

  async function refreshMetrics() {
    const m = await getJSON('/pykue/metrics?minutes=60');
    drawChart(m);
    const complete = (m.complete || []).reduce((a, b) => a + b, 0);
    const failed = (m.failed || []).reduce((a, b) => a + b, 0);
    const minutes = Math.max(1, (m.minutes || []).length);
    const perMinute = (complete + failed) / minutes;
    $('throughput').textContent = perMinute >= 10 || perMinute === 0 ? String(Math.round(perMinute)) : perMinute.toFixed(1);
    const recent = (m.complete || []).slice(-5).reduce((a, b) => a + b, 0) + (m.failed || []).slice(-5).reduce((a, b) => a + b, 0);
    $('throughput-sub').textContent = `jobs/min over the hour · ${recent} in the last 5 min`;
    $('hour-complete').textContent = String(complete);
    const rate = complete + failed ? Math.round((failed * 100) / (complete + failed)) : 0;
    $('hour-failed').textContent = `completed · ${failed} failed${failed ? ` (${rate}%)` : ''}`;
    $('hour-ratio').classList.toggle('ratio-empty', complete + failed === 0);
    $('hour-ratio-failed').style.width = `${complete + failed ? (failed * 100) / (complete + failed) : 0}%`;
  }

  /* The API sends each minute as epoch seconds; accept epoch minutes too. */
  function minuteMs(value) { return value < 1e8 ? value * 60000 : value * 1000; }

  function drawChart(m) {
    const svg = $('chart');
    const minutes = m.minutes || [];
    const complete = m.complete || [];
    const failed = m.failed || [];
    const n = Math.max(minutes.length, 1);
    const W = 600, H = 120, gap = 2;
    const max = Math.max(1, ...minutes.map((_, i) => (complete[i] || 0) + (failed[i] || 0)));
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.replaceChildren();
    for (const frac of [0.5, 1]) {
      svg.append(svgEl('line', { x1: 0, x2: W, y1: H - (H - 12) * frac, y2: H - (H - 12) * frac, class: 'grid' }));
    }
    $('chart-peak').textContent = max > 1 || complete.some(Boolean) || failed.some(Boolean) ? `peak ${max}/min` : 'no jobs finished yet';
    const bw = W / n;
    minutes.forEach((minute, i) => {
      const c = complete[i] || 0;
      const f = failed[i] || 0;
      const x = i * bw + gap / 2;
      const hc = ((H - 12) * c) / max;
      const hf = ((H - 12) * f) / max;
      const g = svgEl('g', { class: 'bar' });
      const title = svgEl('title', {});
      title.textContent = `${new Date(minuteMs(minute)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} · ${c} complete, ${f} failed`;
      g.append(title);
      g.append(svgEl('rect', { x, y: 0, width: Math.max(1, bw - gap), height: H, class: 'hover' }));
      if (c) g.append(svgEl('rect', { x, y: H - hc, width: Math.max(1, bw - gap), height: hc, class: 'complete', rx: 1.5 }));
      if (f) g.append(svgEl('rect', { x, y: H - hc - hf, width: Math.max(1, bw - gap), height: hf, class: 'failed', rx: 1.5 }));
      svg.append(g);
    });
  }

  // --- the job list -----------------------------------------------------------------------

  function listPath() {
    const type = view.type ? `${enc(view.type)}/` : '';
    return `/jobs/${type}${enc(view.state)}/0..${view.to}/${view.order}`;
  }

  async function fetchJobs() {
    if (view.query) {
      const ids = await getJSON(`/job/search?q=${enc(view.query)}`);
      if (!ids.length) return [];
      return getJSON(`/pykue/jobs?ids=${ids.slice(0, SEARCH_LIMIT).map(enc).join(',')}`);
    }
    return getJSON(listPath());
  }

  async function refreshList() {
    const version = view.version;
    const jobs = await fetchJobs();
    if (version !== view.version) return;  // the filter changed meanwhile: the next poll follows it
    setLive(true);
    render(jobs);
  }

  function render(jobs) {
    const list = $('jobs');
    const seen = new Set();
    let previous = null;
    for (const job of jobs) {
      const id = String(job.id);
      seen.add(id);
      let row = rows.get(id);
      if (!row) {
        row = createRow(id);
        rows.set(id, row);
      }
      updateRow(row, job);
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (expected !== row.li) list.insertBefore(row.li, expected);
      previous = row.li;
    }
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        if (row.detail) clearTimeout(row.detail.timer);
        row.detail = null;  // stops its polling
        row.li.remove();
        rows.delete(id);
        selected.delete(id);
      }
    }
    view.hasMore = !view.query && jobs.length > view.to;
    const empty = jobs.length === 0;
    $('empty').hidden = !empty;
    $('empty-text').textContent = view.query
      ? `No job matches “${view.query}”.`
      : `No ${STATE_LABELS[view.state].toLowerCase()} jobs${view.type ? ` of type “${view.type}”` : ''}.`;
    const sentinel = $('sentinel');
    sentinel.hidden = empty;
    sentinel.textContent = view.hasMore ? 'Loading more…' : (jobs.length ? `${jobs.length} job${jobs.length === 1 ? '' : 's'}` : '');
    syncSelection();
    maybeLoadMore();
  }

  function createRow(id) {
    const check = el('input', { type: 'checkbox', class: 'job-check', 'aria-label': `Select job ${id}` });
    check.addEventListener('change', () => {
      if (check.checked) selected.add(id); else selected.delete(id);
      syncSelection();
    });
    const parts = {
      check,
      id: el('span', { class: 'job-id' }),
      title: el('span', { class: 'job-title' }),
      type: el('span', { class: 'chip job-type' }),
      state: el('span', { class: 'chip job-state' }),
      priority: el('span', { class: 'badge job-priority' }),
      status: el('span', { class: 'job-status' }),
      time: el('span', { class: 'job-time' }),
      requeue: el('button', { type: 'button', class: 'icon-btn requeue', title: 'Requeue', 'aria-label': `Requeue job ${id}` }, icon('requeue')),
      remove: el('button', { type: 'button', class: 'icon-btn remove', title: 'Remove', 'aria-label': `Remove job ${id}` }, icon('remove')),
      cancel: el('button', { type: 'button', class: 'icon-btn cancel', title: 'Cancel', 'aria-label': `Cancel job ${id}` }, icon('cancel')),
    };
    const main = el('button', { type: 'button', class: 'job-main', 'aria-expanded': 'false' },
      el('span', { class: 'job-heading' }, parts.id, parts.title),
      el('span', { class: 'job-meta' }, parts.type, parts.state));
    const li = el('li', { class: 'job', 'data-id': id },
      el('div', { class: 'job-row' },
        el('label', { class: 'select' }, check),
        main,
        el('span', { class: 'col-priority' }, parts.priority),
        el('span', { class: 'col-status' }, parts.status),
        el('span', { class: 'col-time' }, parts.time),
        el('span', { class: 'job-actions' }, parts.cancel, parts.requeue, parts.remove)));
    const row = { id, li, main, parts, job: null, detail: null };
    main.addEventListener('click', () => toggleDetail(row));
    parts.requeue.addEventListener('click', () => act(() => requeue(id), `Job ${id} requeued`));
    parts.remove.addEventListener('click', () => act(() => removeJob(id), `Job ${id} removed`));
    parts.cancel.addEventListener('click', () => act(() => cancelJob(id), `Job ${id} cancelled`));
    return row;
  }

  function updateRow(row, job) {
    row.job = job;
    const p = row.parts;
    const title = jobTitle(job);
    p.id.textContent = `#${job.id}`;
    p.title.textContent = title.text;
    p.title.classList.toggle('untitled', title.untitled);
    p.type.textContent = job.type;
    p.state.textContent = STATE_LABELS[job.state] || job.state || '';
    p.state.className = `chip job-state state-${job.state}`;
    p.state.hidden = !view.query;
    p.priority.textContent = priorityName(job.priority);
    p.priority.className = `badge job-priority priority-${priorityName(job.priority)}`;
    row.li.dataset.state = job.state;
    p.requeue.hidden = !(job.state === 'failed' || job.state === 'delayed' || job.state === 'complete');
    p.cancel.hidden = !cancellable(job);
    renderStatus(p.status, job);
    const stamp = job.updated_at || job.created_at;
    p.time.textContent = ago(stamp);
    p.time.title = absolute(stamp);
    p.check.checked = selected.has(row.id);
    if (row.detail) updateDetail(row);
  }

  function progressBar(percent) {
    const bar = el('span', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent });
    const fill = el('span', { class: 'progress-fill' });
    fill.style.width = `${percent}%`;
    bar.append(fill);
    return bar;
  }

  function renderStatus(node, job) {
    const parts = [];
    if (job.state === 'active') {
      const pct = progressOf(job);
      parts.push(progressBar(pct), el('span', { class: 'pct' }, `${pct}%`));
    } else if (job.state === 'failed') {
      const first = (job.error || 'failed').split('\n')[0];
      parts.push(el('span', { class: 'error-line', title: first }, first));
    } else if (job.state === 'delayed') {
      const at = num(job.promote_at);
      parts.push(el('span', { class: 'muted' }, at === null ? 'delayed' : (at > Date.now() ? `runs ${ago(at)}` : 'due now')));
    } else if (job.state === 'complete') {
      const d = num(job.duration);
      parts.push(el('span', { class: 'ok' }, d === null ? 'done' : `took ${formatDuration(d)}`));
    } else {
      parts.push(el('span', { class: 'muted' }, `waiting since ${ago(job.created_at)}`));
    }
    const attempts = job.attempts || {};
    if (attempts.made > 0 && job.state !== 'complete') {
      parts.push(el('span', { class: 'attempts-mini', title: 'attempts made / max' }, `${attempts.made}/${attempts.max}`));
    }
    node.replaceChildren(...parts);
  }

  // --- infinite scroll ----------------------------------------------------------------------

  function maybeLoadMore() {
    const sentinel = $('sentinel');
    const rect = sentinel.getBoundingClientRect();
    if (view.hasMore && rect.top < window.innerHeight + 200) loadMore();
  }
  function loadMore() {
    if (!view.hasMore) return;
    view.hasMore = false;  // until the longer list arrives
    view.to += PAGE;
    listPoll();
  }

  // --- the job detail ------------------------------------------------------------------------

  function toggleDetail(row) {
    if (row.detail) {
      row.detail.node.remove();
      clearTimeout(row.detail.timer);
      row.detail = null;
      row.main.setAttribute('aria-expanded', 'false');
      row.li.classList.remove('open');
      return;
    }
    row.detail = buildDetail(row);
    row.li.append(row.detail.node);
    row.li.classList.add('open');
    row.main.setAttribute('aria-expanded', 'true');
    updateDetail(row);
    refreshDetail(row);
  }

  function fact(label, key) {
    const dd = el('dd', { 'data-fact': key });
    return { dt: el('dt', {}, label), dd };
  }

  function buildDetail(row) {
    const id = row.id;
    const stateSelect = el('select', { class: 'state-select', 'aria-label': 'State' },
      ...settings.states.map((s) => el('option', { value: s.name }, s.label)));
    stateSelect.addEventListener('change', () => act(() => request('PUT', `/job/${id}/state/${enc(stateSelect.value)}`),
      `Job ${id} moved to ${STATE_LABELS[stateSelect.value]}`));
    const prioritySelect = el('select', { class: 'priority-select', 'aria-label': 'Priority' },
      ...PRIORITIES.map(([value, name]) => el('option', { value }, `${name} (${value})`)));
    prioritySelect.addEventListener('change', () => act(() => request('PUT', `/job/${id}/priority/${enc(prioritySelect.value)}`),
      `Job ${id} priority set to ${priorityName(prioritySelect.value)}`));
    const facts = {};
    const dl = el('dl', { class: 'facts' });
    const add = (label, key, value) => {
      const f = fact(label, key);
      if (value) f.dd.append(value);
      facts[key] = f;
      dl.append(el('div', { class: 'fact' }, f.dt, f.dd));
    };
    add('State', 'state', stateSelect);
    add('Priority', 'priority', prioritySelect);
    add('Progress', 'progress');
    add('Attempts', 'attempts');
    add('Created', 'created_at');
    add('Updated', 'updated_at');
    add('Started', 'started_at');
    add('Runs at', 'promote_at');
    add('Failed', 'failed_at');
    add('Duration', 'duration');
    add('Worker', 'workerId');
    add('TTL', 'ttl');
    add('Delay', 'delay');
    const blocks = {
      data: el('pre', { class: 'code data' }),
      progressData: el('pre', { class: 'code progress-data' }),
      result: el('pre', { class: 'code result' }),
      error: el('pre', { class: 'code error' }),
      log: el('ol', { class: 'log' }),
    };
    const section = (title, key, body) => el('section', { class: `block block-${key}` }, el('h3', {}, title), body);
    const sections = {
      error: section('Error', 'error', blocks.error),
      data: section('Data', 'data', blocks.data),
      progressData: section('Progress data', 'progress-data', blocks.progressData),
      result: section('Result', 'result', blocks.result),
      log: section('Log', 'log', blocks.log),
    };
    const actions = el('div', { class: 'detail-actions' },
      el('button', { type: 'button', class: 'btn detail-requeue', onclick: () => act(() => requeue(id), `Job ${id} requeued`) }, icon('requeue'), 'Requeue'),
      el('button', { type: 'button', class: 'btn detail-cancel', onclick: () => act(() => cancelJob(id), `Job ${id} cancelled`) }, icon('cancel'), 'Cancel'),
      el('button', { type: 'button', class: 'btn btn-danger detail-remove', onclick: () => act(() => removeJob(id), `Job ${id} removed`) }, icon('remove'), 'Remove'));
    const node = el('div', { class: 'detail', role: 'region', 'aria-label': `Job ${id} details` },
      el('div', { class: 'detail-side' }, dl, actions),
      el('div', { class: 'detail-body' }, sections.error, sections.data, sections.progressData, sections.result, sections.log,
        ...(window.pykueWorkflow ? [window.pykueWorkflow.section(id)] : [])));  // workflow.js
    return { node, facts, blocks, sections, stateSelect, prioritySelect, log: null, timer: null };
  }

  function setFact(detail, key, text, title) {
    const f = detail.facts[key];
    const empty = text === null || text === undefined || text === '';
    f.dt.parentNode.hidden = empty;
    if (!empty && key !== 'state' && key !== 'priority' && key !== 'progress') {
      f.dd.textContent = text;
      if (title) f.dd.title = title;
    }
  }

  function updateDetail(row) {
    const d = row.detail;
    const job = row.job;
    if (!d || !job) return;
    if (document.activeElement !== d.stateSelect) d.stateSelect.value = job.state;
    if (document.activeElement !== d.prioritySelect) {
      const known = PRIORITIES.some(([value]) => value === Number(job.priority));
      if (!known && !d.prioritySelect.querySelector(`option[data-custom]`)) {
        d.prioritySelect.append(el('option', { value: job.priority, 'data-custom': true }, String(job.priority)));
      }
      d.prioritySelect.value = String(job.priority);
    }
    const pct = progressOf(job);
    d.facts.progress.dd.replaceChildren(progressBar(pct), el('span', { class: 'pct' }, `${pct}%`));
    d.facts.progress.dd.parentNode.hidden = job.state !== 'active' && pct === 0;
    const a = job.attempts || {};
    setFact(d, 'attempts', a.max !== undefined ? `${a.made || 0} made of ${a.max} · ${a.remaining} left` : '');
    for (const key of ['created_at', 'updated_at', 'started_at', 'failed_at']) {
      setFact(d, key, job[key] ? `${ago(job[key])}` : '', absolute(job[key]));
    }
    setFact(d, 'promote_at', job.state === 'delayed' && job.promote_at ? ago(job.promote_at) : '', absolute(job.promote_at));
    setFact(d, 'duration', job.duration ? formatDuration(num(job.duration)) : '');
    setFact(d, 'workerId', job.workerId || '');
    setFact(d, 'ttl', job.ttl ? formatDuration(num(job.ttl)) : '');
    setFact(d, 'delay', job.delay ? formatDuration(num(job.delay)) : '');
    d.blocks.data.textContent = pretty(job.data);
    d.sections.error.hidden = !job.error;
    d.blocks.error.textContent = job.error || '';
    d.sections.result.hidden = job.result === undefined;
    d.blocks.result.textContent = job.result === undefined ? '' : pretty(job.result);
    d.sections.progressData.hidden = job.progress_data === undefined;
    d.blocks.progressData.textContent = job.progress_data === undefined ? '' : pretty(job.progress_data);
    d.node.querySelector('.detail-requeue').hidden = job.state === 'inactive' || job.state === 'active';
    d.node.querySelector('.detail-cancel').hidden = !cancellable(job);
  }

  function renderLog(d, lines) {
    if (d.log && lines.length === d.log.length && lines.every((line, i) => line === d.log[i])) return;
    d.log = lines;
    if (!lines.length) {
      d.blocks.log.replaceChildren(el('li', { class: 'muted empty-log' }, 'No log lines.'));
      return;
    }
    d.blocks.log.replaceChildren(...lines.map((line) => el('li', {}, line)));
  }

  async function refreshDetail(row) {
    const d = row.detail;
    if (!d) return;
    clearTimeout(d.timer);
    try {
      const [job, lines] = await Promise.all([getJSON(`/job/${row.id}`), getJSON(`/job/${row.id}/log`)]);
      if (row.detail !== d) return;
      row.job = job;
      updateRow(row, job);
      renderLog(d, lines);
    } catch (e) {
      if (row.detail !== d) return;
      if (e instanceof ApiError) {
        d.blocks.log.replaceChildren(el('li', { class: 'muted' }, e.message));
      }
    }
    if (row.detail === d) d.timer = setTimeout(() => refreshDetail(row), DETAIL_EVERY);
  }

  // --- actions ---------------------------------------------------------------------------------

  const requeue = (id) => request('PUT', `/job/${enc(id)}/state/inactive`);
  const removeJob = (id) => request('DELETE', `/job/${enc(id)}`);
  // pykue's own route: queued, delayed and running jobs fail as `Cancelled: ...`, never retried.
  const cancelJob = (id) => request('PUT', `/pykue/job/${enc(id)}/cancel?reason=${enc('from the dashboard')}`);
  const cancellable = (job) => job.state === 'inactive' || job.state === 'delayed' || job.state === 'active';

  async function act(action, success) {
    try {
      await action();
      toast(success, 'success');
    } catch (e) {
      toast(e.message, 'error');
    }
    listPoll();
    statsPoll();
  }

  async function bulk(label, action) {
    const ids = [...selected];
    if (!ids.length) return;
    const results = await Promise.allSettled(ids.map((id) => action(id)));
    const failed = results.filter((r) => r.status === 'rejected');
    const done = ids.length - failed.length;
    if (done) toast(`${label} ${done} job${done === 1 ? '' : 's'}`, 'success');
    if (failed.length) toast(`${failed.length} failed: ${failed[0].reason.message}`, 'error');
    selected.clear();
    listPoll();
    statsPoll();
  }

  function syncSelection() {
    for (const id of [...selected]) if (!rows.has(id)) selected.delete(id);
    const count = selected.size;
    $('bulkbar').hidden = count === 0;
    $('bulk-count').textContent = `${count} selected`;
    const all = $('select-all');
    all.checked = count > 0 && count === rows.size;
    all.indeterminate = count > 0 && count < rows.size;
    for (const row of rows.values()) {
      row.parts.check.checked = selected.has(row.id);
      row.li.classList.toggle('selected', selected.has(row.id));
    }
  }

  let removeArmed = null;
  function wireBulk() {
    $('select-all').addEventListener('change', (e) => {
      if (e.target.checked) for (const id of rows.keys()) selected.add(id);
      else selected.clear();
      syncSelection();
    });
    $('bulk-clear').addEventListener('click', () => { selected.clear(); syncSelection(); });
    $('bulk-requeue').addEventListener('click', () => bulk('Requeued', requeue));
    $('bulk-cancel').addEventListener('click', () => bulk('Cancelled', cancelJob));
    $('bulk-priority').addEventListener('change', (e) => {
      const value = e.target.value;
      e.target.value = '';
      if (value !== '') bulk(`Set priority ${priorityName(value)} on`, (id) => request('PUT', `/job/${enc(id)}/priority/${enc(value)}`));
    });
    const removeBtn = $('bulk-remove');
    removeBtn.addEventListener('click', () => {
      if (!removeArmed) {
        removeBtn.textContent = `Remove ${selected.size}? Click again`;
        removeBtn.classList.add('armed');
        removeArmed = setTimeout(disarm, 4000);
        return;
      }
      disarm();
      bulk('Removed', removeJob);
    });
    function disarm() {
      clearTimeout(removeArmed);
      removeArmed = null;
      removeBtn.textContent = 'Remove';
      removeBtn.classList.remove('armed');
    }
  }

  // --- filters, sorting and search ------------------------------------------------------------

  function resetList() {
    view.version += 1;
    for (const row of rows.values()) {
      if (row.detail) clearTimeout(row.detail.timer);
      row.detail = null;
      row.li.remove();
    }
    rows.clear();
    selected.clear();
    view.to = PAGE - 1;
    $('sentinel').textContent = 'Loading…';
    syncSelection();
  }

  function syncUrl() {
    const params = new URLSearchParams();
    if (view.type) params.set('type', view.type);
    if (view.order !== 'asc') params.set('order', view.order);
    const query = params.toString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}`);
  }

  async function refreshTypes() {
    const types = await getJSON('/job/types');
    const select = $('type-filter');
    const have = new Set([...select.options].map((o) => o.value));
    for (const type of types.slice().sort()) {
      if (!have.has(type)) select.append(el('option', { value: type }, type));
    }
  }

  function wireControls() {
    $('type-filter').addEventListener('change', (e) => {
      view.type = e.target.value;
      syncUrl();
      resetList();
      listPoll();
    });
    $('order').addEventListener('change', (e) => {
      view.order = e.target.value;
      syncUrl();
      resetList();
      listPoll();
    });
    const search = $('search');
    if (!search) return;
    let debounce = null;
    const apply = () => {
      const q = search.value.trim();
      const next = q.length >= 2 ? q : '';
      if (next === view.query) return;
      view.query = next;
      document.body.classList.toggle('searching', Boolean(next));
      $('list-title').textContent = next ? `Search: ${next}` : `${STATE_LABELS[view.state]} jobs`;
      resetList();
      listPoll();
    };
    search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(apply, 250); });
    search.addEventListener('keydown', (e) => { if (e.key === 'Escape') { search.value = ''; apply(); } });
    $('search-form').addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  }

  // --- start -------------------------------------------------------------------------------------

  let listPoll = () => {};
  let statsPoll = () => {};
  function start() {
    wireControls();
    wireBulk();
    statsPoll = poll(refreshStats, STATS_EVERY);
    listPoll = poll(refreshList, LIST_EVERY);
    poll(refreshMetrics, METRICS_EVERY);
    poll(refreshTypes, METRICS_EVERY);
    if ('IntersectionObserver' in window) {
      const observer = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) loadMore();
      }, { rootMargin: '200px' });
      observer.observe($('sentinel'));
    }
    window.addEventListener('scroll', maybeLoadMore, { passive: true });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
