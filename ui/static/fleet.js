/* pykue dashboard: the Overview (/) and Workers pages, over /pykue/overview and /pykue/workers.
 * Text from Redis goes into the page only through textContent and attribute setters. */
(function () {
  'use strict';

  const {
    settings, $, el, svgEl, request, getJSON, enc, formatDuration, toast, setLive, poll, ago, absolute,
  } = window.pykue;
  const ROOT = settings.root;
  const OVERVIEW_EVERY = 2000;
  const WORKERS_EVERY = 1500;
  const STATES = [['inactive', 'Queued'], ['active', 'Active'], ['delayed', 'Delayed'], ['failed', 'Failed'], ['complete', 'Complete']];

  function setCounts(counts) {
    for (const node of document.querySelectorAll('[data-count]')) {
      const value = counts[node.dataset.count];
      if (value !== undefined) node.textContent = String(value);
    }
  }

  function setWorkerCount(live) {
    for (const node of document.querySelectorAll('[data-workers]')) node.textContent = String(live);
  }

  function rate(value) {
    return value >= 10 || value === 0 ? String(Math.round(value)) : value.toFixed(1);
  }

  // --- the Overview ----------------------------------------------------------------------------

  let lastChart = null;

  async function refreshOverview() {
    const [o, periodic] = await Promise.all([getJSON('/pykue/overview'), getJSON('/pykue/schedules')]);
    setLive(true);
    setCounts(o.counts);
    setWorkerCount(o.workers.live);
    for (const t of o.throughput) renderRate(t);
    renderFailures(o.throughput[o.throughput.length - 1]);
    $('workers-live').textContent = String(o.workers.live);
    $('workers-sub').textContent = o.workers.stale
      ? `heartbeating · ${o.workers.stale} stopped heartbeating`
      : (o.workers.live ? 'processes heartbeating' : 'no worker is running');
    $('workers-live').classList.toggle('warn', o.workers.live === 0);
    lastChart = o.chart;
    drawChart(o.chart);
    renderTypes(o.types, periodic.limits);
    renderSchedules(periodic.schedules);
    $('paused-note').textContent = o.paused.length ? `Paused: ${o.paused.join(', ')}` : '';
  }

  /* "jobs/min over the last N minutes", or over the shorter time since the first job finished. */
  function renderRate(t) {
    $(`rate-${t.window}`).replaceChildren(rate(t.perMinute), el('span', { class: 'unit' }, ' /min'));
    const finished = t.complete + t.failed;
    const span = t.young ? `the ${t.minutes} min since jobs began finishing` : `the last ${t.window} min`;
    $(`rate-${t.window}-sub`).textContent = finished
      ? `jobs/min over ${span} · ${finished} finished`
      : `jobs/min · none finished in the last ${t.window} min`;
  }

  function renderFailures(t) {
    const total = t.complete + t.failed;
    const pct = total ? (t.failed * 100) / total : 0;
    $('failed-60').textContent = total ? `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)}%` : '–';
    $('failed-60-sub').textContent = total ? `${t.failed} failed · ${t.complete} completed` : 'no job finished in the last hour';
    $('ratio-60').classList.toggle('ratio-empty', total === 0);
    $('ratio-60-failed').style.width = `${pct}%`;
  }

  /* A step of 1, 2 or 5 times a power of ten that splits `max` into at most 4 ticks. */
  function niceStep(max) {
    const raw = Math.max(1, max) / 4;
    const power = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 5, 10]) if (m * power >= raw) return Math.max(1, m * power);
    return raw;
  }

  function hhmm(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function drawChart(m) {
    const svg = $('chart');
    const W = Math.max(300, svg.clientWidth || 600);
    const H = 200;
    const left = 40, right = 8, top = 10, bottom = 22;
    const minutes = m.minutes || [];
    const n = Math.max(minutes.length, 1);
    const totals = minutes.map((_, i) => (m.complete[i] || 0) + (m.failed[i] || 0));
    const step = niceStep(Math.max(0, ...totals));
    const max = step * Math.max(1, Math.ceil(Math.max(1, ...totals) / step));
    const plotW = W - left - right, plotH = H - top - bottom;
    const y = (v) => top + plotH - (plotH * v) / max;
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.replaceChildren();
    for (let v = 0; v <= max; v += step) {
      svg.append(svgEl('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: v ? 'grid' : 'axis' }));
      const label = svgEl('text', { x: left - 6, y: y(v) + 4, class: 'tick tick-y', 'text-anchor': 'end' });
      label.textContent = String(v);
      svg.append(label);
    }
    const bw = plotW / n;
    const labelEvery = [10, 15, 20, 30, 60].find((k) => k * bw >= 70) || 60;  // time labels never overlap
    minutes.forEach((minute, i) => {
      const c = m.complete[i] || 0, f = m.failed[i] || 0;
      const x = left + i * bw + 1;
      const w = Math.max(1, bw - 2);
      const g = svgEl('g', { class: 'bar' });
      const title = svgEl('title', {});
      title.textContent = `${hhmm(minute)} · ${c} complete, ${f} failed`;
      g.append(title, svgEl('rect', { x, y: top, width: w, height: plotH, class: 'hover' }));
      if (c) g.append(svgEl('rect', { x, y: y(c), width: w, height: y(0) - y(c), class: 'complete', rx: 1.5 }));
      if (f) g.append(svgEl('rect', { x, y: y(c + f), width: w, height: y(c) - y(c + f), class: 'failed', rx: 1.5 }));
      svg.append(g);
      const fromEnd = n - 1 - i;
      if (fromEnd % labelEvery === 0) {
        const label = svgEl('text', { x: x + w / 2, y: H - 6, class: 'tick tick-x', 'text-anchor': fromEnd === 0 ? 'end' : 'middle' });
        label.textContent = fromEnd === 0 ? 'now' : hhmm(minute);
        svg.append(label);
      }
    });
  }

  function typeLink(state, type, n) {
    return el('a', { href: `${ROOT}/${state}?type=${enc(type)}`, class: n ? 'count-link' : 'count-link zero' }, String(n || 0));
  }

  /* A type's fleet-wide limits (rate_limit, global_concurrency) as chips beside its name. */
  function limitChips(limits) {
    if (!limits) return [];
    const chips = [];
    if (limits.rateLimit) chips.push(el('span', { class: 'chip chip-limit', title: 'Rate limit: starts across every worker' }, `≤ ${limits.rateLimit}`));
    if (limits.globalConcurrency !== null && limits.globalConcurrency !== undefined) {
      chips.push(el('span', { class: 'chip chip-limit', title: 'Global concurrency: active at once across every worker' }, `≤ ${limits.globalConcurrency} active`));
    }
    return chips;
  }

  function renderSchedules(schedules) {
    $('schedules-card').hidden = schedules.length === 0;
    $('schedules').querySelector('tbody').replaceChildren(...schedules.map((s) => {
      const when = s.cron ? `cron ${s.cron}` : `every ${formatDuration(s.every * 1000)}`;
      return el('tr', { 'data-schedule': s.name },
        el('th', { scope: 'row' }, s.name),
        el('td', {}, el('span', { class: 'chip job-type' }, s.type)),
        el('td', {}, el('code', {}, when), s.timezone && s.timezone !== 'UTC' ? ` · ${s.timezone}` : ''),
        el('td', { title: absolute(s.nextRun) }, ago(s.nextRun)));
    }));
  }

  function renderTypes(types, limits) {
    const body = $('types').querySelector('tbody');
    $('types-empty').hidden = types.length > 0;
    body.replaceChildren(...types.map((t) => {
      const counts = t.counts || {};
      const pause = el('button', {
        type: 'button',
        class: `btn btn-small ${t.paused ? 'btn-resume' : 'btn-pause'}`,
        'aria-label': `${t.paused ? 'Resume' : 'Pause'} ${t.type}`,
        onclick: () => togglePause(t),
      }, t.paused ? 'Resume' : 'Pause');
      const waiting = (counts.inactive || 0) > 0;
      const workers = el('td', { class: `num${!t.workers && waiting && !t.paused ? ' warn' : ''}` },
        t.workers ? String(t.workers) : 'none');
      if (!t.workers && waiting && !t.paused) workers.title = 'Jobs are queued and no live worker serves this type';
      return el('tr', { 'data-type': t.type, class: t.paused ? 'paused' : '' },
        el('th', { scope: 'row' }, el('span', { class: 'chip job-type' }, t.type), t.paused ? el('span', { class: 'chip chip-paused' }, 'paused') : null,
          ...limitChips((limits || {})[t.type])),
        ...STATES.map(([state]) => el('td', { class: `num state-cell state-${state}` }, typeLink(state, t.type, counts[state]))),
        el('td', { class: 'num' }, `${t.completed} · ${t.failed}`),
        el('td', { class: 'num' }, `${t.meanDuration === null ? '–' : formatDuration(t.meanDuration)} · ${t.meanWait === null ? '–' : formatDuration(t.meanWait)}`),
        workers,
        el('td', { class: 'actions' }, pause));
    }));
  }

  async function togglePause(t) {
    const verb = t.paused ? 'resume' : 'pause';
    try {
      await request('PUT', `/pykue/types/${enc(t.type)}/${verb}`);
      toast(`${t.type} ${verb}d: workers follow within a second or two`, 'success');
    } catch (e) {
      toast(e.message, 'error');
    }
    overviewPoll();
  }

  // --- the Workers page --------------------------------------------------------------------------

  async function refreshWorkers() {
    const [workers, stats] = await Promise.all([getJSON('/pykue/workers'), getJSON('/stats')]);
    setLive(true);
    setCounts(Object.fromEntries(STATES.map(([s]) => [s, stats[`${s}Count`]])));
    const live = workers.filter((w) => !w.stale);
    setWorkerCount(live.length);
    const stale = workers.length - live.length;
    const running = workers.reduce((a, w) => a + w.running_count, 0);
    $('workers-summary').textContent = workers.length
      ? `${live.length} heartbeating${stale ? ` · ${stale} stopped` : ''} · ${running} job${running === 1 ? '' : 's'} running`
      : '';
    $('workers-empty').hidden = workers.length > 0;
    $('workers').replaceChildren(...workers.map(workerCard));
    highlight();
  }

  function workerCard(w) {
    const types = Object.entries(w.types).sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) =>
      el('span', { class: `chip job-type${w.paused.includes(type) ? ' chip-paused' : ''}`, title: w.paused.includes(type) ? 'paused' : `${n} at once` },
        `${type} ×${n}${w.paused.includes(type) ? ' · paused' : ''}`));
    const beat = w.stale
      ? el('span', { class: 'beat beat-stale' }, `stopped heartbeating ${formatDuration(w.heartbeat_age_ms)} ago`)
      : el('span', { class: 'beat' }, `heartbeat ${formatDuration(w.heartbeat_age_ms)} ago`);
    const jobs = w.running.map((r) => el('li', {},
      el('a', { href: `${ROOT}/active?job=${enc(r.id)}` }, `#${r.id}`),
      el('span', { class: 'chip job-type' }, r.type),
      el('span', { class: 'muted' }, r.started_at ? `running for ${formatDuration(Date.now() - r.started_at)}` : 'running')));
    const more = w.running_count > w.running.length ? el('li', { class: 'muted' }, `and ${w.running_count - w.running.length} more`) : null;
    const slots = Object.values(w.types).reduce((a, b) => a + b, 0);
    return el('li', { class: `worker${w.stale ? ' stale' : ''}`, id: w.id, 'data-worker': w.id },
      el('div', { class: 'worker-head' },
        el('span', { class: 'worker-dot', title: w.stale ? 'stopped heartbeating' : 'heartbeating' }),
        el('span', { class: 'worker-name' }, `${w.host}:${w.pid}`),
        el('span', { class: 'worker-id muted' }, w.id),
        beat),
      el('div', { class: 'worker-facts' },
        fact('Running', `${w.running_count} of ${slots} slots`),
        fact('Processed', String(w.processed)),
        fact('Failed', String(w.failed)),
        fact('Up', formatDuration(w.seen_at - w.started_at)),
        fact('Version', `pykue ${w.version}`)),
      el('div', { class: 'worker-types' }, ...types),
      jobs.length ? el('ol', { class: 'worker-jobs' }, ...jobs, more) : el('p', { class: 'muted worker-idle' }, 'No job running.'));
  }

  function fact(label, value) {
    return el('span', { class: 'worker-fact' }, el('span', { class: 'muted' }, label), el('strong', {}, value));
  }

  function highlight() {
    const id = decodeURIComponent(location.hash.slice(1));
    for (const card of document.querySelectorAll('.worker')) card.classList.toggle('target', card.dataset.worker === id);
  }

  // --- start ---------------------------------------------------------------------------------------

  let overviewPoll = () => {};
  function start() {
    if (settings.page === 'overview') {
      overviewPoll = poll(refreshOverview, OVERVIEW_EVERY);
      window.addEventListener('resize', () => { if (lastChart) drawChart(lastChart); });
    } else {
      poll(refreshWorkers, WORKERS_EVERY);
      window.addEventListener('hashchange', highlight);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
