/* pykue dashboard: plain JavaScript over Kue's JSON API, kept live by polling.
 *
 * Safety rule for this file: text from Redis (job data, types, errors, logs) is only ever
 * put into the page through textContent or attribute setters, never through innerHTML.
 */
(function () {
  'use strict';

  const settings = JSON.parse(document.getElementById('settings').textContent);
  const PAGE = 20;
  const LIST_EVERY = 1000;
  const DETAIL_EVERY = 1000;
  const TYPES_EVERY = 10000;
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
    focus: settings.focus ? String(settings.focus) : '',  // ?job=ID: open that job's detail
  };
  const rows = new Map();      // job id -> {li, job, detail}
  const selected = new Set();  // job ids

  const {
    $, el, svgEl, ApiError, request, getJSON, enc, num, formatDuration, ago, absolute, toast, setLive, poll,
  } = window.pykue;

  // --- small helpers -------------------------------------------------------------------

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

  function priorityName(p) {
    const found = PRIORITIES.find(([value]) => value === Number(p));
    return found ? found[1] : String(p);
  }

  /* A job's heading: its data's title, or else its type with a short summary of its data
   * ("to: ana@example.com · retries: 3"), never raw JSON. */
  function jobTitle(job) {
    const data = job.data;
    if (data && typeof data === 'object' && (typeof data.title === 'string' || typeof data.title === 'number')) {
      return { text: String(data.title), summary: '', untitled: false };
    }
    return { text: String(job.type || 'job'), summary: summarize(data), untitled: true };
  }

  function summarize(data) {
    const short = (value) => {
      if (value === null || value === undefined) return 'none';
      if (Array.isArray(value)) return `${value.length} item${value.length === 1 ? '' : 's'}`;
      if (typeof value === 'object') return '{…}';
      const text = String(value);
      return text.length > 40 ? text.slice(0, 39) + '…' : text;
    };
    if (data === null || data === undefined || data === '') return 'no data';
    if (typeof data !== 'object' || Array.isArray(data)) return short(data);
    const entries = Object.entries(data);
    if (!entries.length) return 'no data';
    const shown = entries.slice(0, 4).map(([key, value]) => `${key}: ${short(value)}`);
    return shown.join(' · ') + (entries.length > 4 ? ` · +${entries.length - 4} more` : '');
  }

  /* "pykue:<host>:<pid>:<hex>:<type>" (the workerId a pykue claim writes): the worker's id and
   * a short name for it; another worker's id (Node Kue's) is shown as it is. */
  function workerOf(job) {
    const wid = String(job.workerId || '');
    const suffix = `:${job.type}`;
    const base = wid.endsWith(suffix) ? wid.slice(0, -suffix.length) : wid;
    const match = /^pykue:(.+):(\d+):[0-9a-f]+$/.exec(base);
    if (!wid) return null;
    return match ? { id: base, name: `${match[1]}:${match[2]}` } : { id: '', name: wid };
  }

  function pretty(value) {
    try { return JSON.stringify(value, null, 2); } catch (e) { return String(value); }
  }

  function progressOf(job) {
    const p = num(job.progress);
    return p === null ? 0 : Math.max(0, Math.min(100, p));
  }


  // --- counts: the menu, the title ----------------------------------------------------------

  /* counts: {state: n}, read in the same moment as the list they sit beside. */
  function renderCounts(counts) {
    const here = counts[view.state];
    document.title = `${STATE_LABELS[view.state]}${here ? ` (${here})` : ''} · ${settings.title}`;
    for (const node of document.querySelectorAll('[data-count]')) {
      const value = counts[node.dataset.count];
      if (value !== undefined) node.textContent = String(value);
    }
  }

  async function refreshWorkerCount() {
    const workers = await getJSON('/pykue/workers');
    const live = workers.filter((w) => !w.stale).length;
    for (const node of document.querySelectorAll('[data-workers]')) node.textContent = String(live);
  }

  // --- the job list -----------------------------------------------------------------------

  /* The list and the counts in one answer, read together (pykue/listing.py): a job that
   * finished is gone from both, so the rows and the count beside them always agree. */
  function listPath() {
    const type = view.type ? `?type=${enc(view.type)}` : '';
    return `/pykue/list/${enc(view.state)}/0..${view.to}/${view.order}${type}`;
  }

  async function fetchJobs() {
    if (view.query) {
      const [ids, stats] = await Promise.all([getJSON(`/job/search?q=${enc(view.query)}`), getJSON('/stats')]);
      const counts = Object.fromEntries(settings.states.map((s) => [s.name, stats[`${s.name}Count`]]));
      if (!ids.length) return { jobs: [], counts };
      return { jobs: await getJSON(`/pykue/jobs?ids=${ids.slice(0, SEARCH_LIMIT).map(enc).join(',')}`), counts };
    }
    return getJSON(listPath());
  }

  async function refreshList() {
    const version = view.version;
    const { jobs, counts } = await fetchJobs();
    if (version !== view.version) return;  // the filter changed meanwhile: the next poll follows it
    setLive(true);
    renderCounts(counts);
    render(jobs);
    if (view.focus) await openFocus();
  }

  /* ?job=ID (the Workers page links a running job so): open its detail, fetching it when it
   * is not among the rows loaded. */
  async function openFocus() {
    const id = view.focus;
    view.focus = '';
    let row = rows.get(id);
    if (!row) {
      const [job] = await getJSON(`/pykue/jobs?ids=${enc(id)}`);
      if (!job) { toast(`Job ${id} no longer exists`, 'error'); return; }
      row = createRow(id);
      rows.set(id, row);
      updateRow(row, job);
      $('jobs').prepend(row.li);
    }
    if (!row.detail) toggleDetail(row);
    row.li.scrollIntoView({ block: 'center' });
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
      if (seen.has(id)) {
        row.li.classList.remove('departed');
      } else if (row.detail && !row.moved) {
        depart(row);  // its reader is looking at it: say where it went instead of pulling it away
      } else {
        dropRow(id, row);
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

  function dropRow(id, row) {
    if (row.detail) clearTimeout(row.detail.timer);
    row.detail = null;  // stops its polling
    row.li.remove();
    rows.delete(id);
    selected.delete(id);
  }

  /* A row whose job left this list while its detail is open: it stays, marked, until closed. */
  function depart(row) {
    row.li.classList.add('departed');
    selected.delete(row.id);
    if (row.detail) updateDetail(row);
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
      summary: el('span', { class: 'job-summary' }),
      worker: el('a', { class: 'chip job-worker', title: 'The worker running it' }),
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
      el('span', { class: 'job-heading' }, parts.id, parts.title, parts.summary),
      el('span', { class: 'job-meta' }, parts.type, parts.state, parts.worker));
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
    parts.requeue.addEventListener('click', () => act(() => requeue(id), `Job ${id} requeued`, id));
    parts.remove.addEventListener('click', () => act(() => removeJob(id), `Job ${id} removed`, id));
    parts.cancel.addEventListener('click', () => act(() => cancelJob(id), `Job ${id} cancelled`, id));
    return row;
  }

  function updateRow(row, job) {
    row.job = job;
    const p = row.parts;
    const title = jobTitle(job);
    p.id.textContent = `#${job.id}`;
    p.title.textContent = title.text;
    p.title.classList.toggle('untitled', title.untitled);
    p.summary.textContent = title.summary;
    p.summary.hidden = !title.summary;
    const worker = job.state === 'active' ? workerOf(job) : null;
    p.worker.hidden = !worker;
    if (worker) {
      p.worker.textContent = `on ${worker.name}`;
      p.worker.href = `${settings.root}/workers${worker.id ? `#${enc(worker.id)}` : ''}`;
    }
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
    if (row.detail && row.li.classList.contains('departed')) {
      dropRow(row.id, row);  // it had left the list: closing it lets it go
      return;
    }
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
      `Job ${id} moved to ${STATE_LABELS[stateSelect.value]}`, id));
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
      el('button', { type: 'button', class: 'btn detail-requeue', onclick: () => act(() => requeue(id), `Job ${id} requeued`, id) }, icon('requeue'), 'Requeue'),
      el('button', { type: 'button', class: 'btn detail-cancel', onclick: () => act(() => cancelJob(id), `Job ${id} cancelled`, id) }, icon('cancel'), 'Cancel'),
      el('button', { type: 'button', class: 'btn btn-danger detail-remove', onclick: () => act(() => removeJob(id), `Job ${id} removed`, id) }, icon('remove'), 'Remove'));
    const notice = el('p', { class: 'detail-notice', role: 'status', hidden: true });
    const node = el('div', { class: 'detail', role: 'region', 'aria-label': `Job ${id} details` },
      el('div', { class: 'detail-side' }, dl, actions),
      el('div', { class: 'detail-body' }, notice, sections.error, sections.data, sections.progressData, sections.result, sections.log,
        ...(window.pykueWorkflow ? [window.pykueWorkflow.section(id)] : [])));  // workflow.js
    return { node, notice, facts, blocks, sections, stateSelect, prioritySelect, log: null, timer: null };
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
    const worker = workerOf(job);
    if (worker && worker.id && job.state === 'active') {
      d.facts.workerId.dd.replaceChildren(el('a', { href: `${settings.root}/workers#${enc(worker.id)}`, title: job.workerId }, worker.name));
    }
    renderNotice(row);
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

  /* Where a job went after it left this list while its reader was looking at it. */
  function renderNotice(row, removed) {
    const d = row.detail;
    const job = row.job;
    const left = removed || row.li.classList.contains('departed');
    d.notice.hidden = !left;
    if (!left) return;
    row.li.classList.add('departed');
    if (removed) {
      d.notice.replaceChildren(`Job ${row.id} was removed. `, closeLink(row));
      return;
    }
    const label = STATE_LABELS[job.state] || job.state;
    const took = job.state === 'complete' && job.duration ? ` in ${formatDuration(num(job.duration))}` : '';
    const verb = job.state === 'complete' ? `finished${took}` : job.state === 'failed' ? 'failed' : `is now ${label.toLowerCase()}`;
    const where = view.query ? '' : ` and left the ${STATE_LABELS[view.state].toLowerCase()} list`;
    d.notice.replaceChildren(`This job ${verb}${where}. `,
      el('a', { href: `${settings.root}/${enc(job.state)}?job=${enc(row.id)}` }, `See it in ${label}`), ' · ', closeLink(row));
  }

  function closeLink(row) {
    return el('button', { type: 'button', class: 'link-btn', onclick: () => toggleDetail(row) }, 'Close');
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
        if (/doesnt exist/.test(e.message)) { renderNotice(row, true); return; }
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

  /* `id`: the job the reader moved (requeued, removed, set a state): its row may leave the
   * list at once, where a job that moves on by itself stays until its detail is closed. */
  async function act(action, success, id) {
    try {
      await action();
      if (id !== undefined && rows.has(String(id))) rows.get(String(id)).moved = true;
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
    listPoll = poll(refreshList, LIST_EVERY);
    statsPoll = listPoll;  // the counts come with the list
    poll(refreshTypes, TYPES_EVERY);
    poll(refreshWorkerCount, TYPES_EVERY);
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
