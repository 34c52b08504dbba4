/* pykue dashboard: what every page's script shares (window.pykue): building elements,
 * calling the JSON API, polling, toasts, the live indicator and formatting times.
 *
 * Safety rule for every script: text from Redis (job data, types, errors, logs, worker
 * records) is only ever put into the page through textContent or attribute setters, never
 * through innerHTML.
 */
(function () {
  'use strict';

  const settings = JSON.parse(document.getElementById('settings').textContent);
  const ROOT = settings.root;

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

  window.pykue = {
    settings, $, el, svgEl, ApiError, request, getJSON, enc, num, formatDuration, ago, absolute, toast, setLive, poll,
  };
})();
