/* pykue dashboard: the workflow a job is a step of (pykue/canvas.py), from
 * GET /pykue/job/<id>/workflow: its parents and children with their states, linked, and
 * every step of the workflow. dashboard.js adds `pykueWorkflow.section(id)` to a job's
 * detail; a page opened with ?job=<id> (the links here) opens that job's detail (dashboard.js).
 *
 * Safety rule, as in dashboard.js: text from Redis only ever goes through textContent or
 * attribute setters, never innerHTML.
 */
(function () {
  'use strict';

  const { el, getJSON } = window.pykue;  // common.js
  const ROOT = window.pykue.settings.root;
  const EVERY = 1500;
  const KUE_STATES = ['inactive', 'active', 'delayed', 'failed', 'complete'];

  /** A step, linked to its state's page opened on it; a step with no job (waiting, removed)
   * has nowhere to go, so it is plain text. */
  function stepLink(step) {
    const linked = KUE_STATES.includes(step.state);
    const href = linked ? `${ROOT}/${step.state}?job=${encodeURIComponent(step.id)}` : null;
    return el(linked ? 'a' : 'span', { class: `flow-step state-${step.state}`, href, 'data-job': step.id },
      el('span', { class: 'state-dot' }), `#${step.id} ${step.type} `, el('span', { class: 'flow-state' }, step.state));
  }

  function links(label, steps, key) {
    return el('div', { class: `flow-links flow-${key}` }, el('span', { class: 'flow-label' }, label),
      ...(steps.length ? steps.map(stepLink) : [el('span', { class: 'muted' }, 'none')]));
  }

  function render(body, jobId, flow) {
    const byId = new Map(flow.steps.map((s) => [s.id, s]));
    const me = byId.get(Number(jobId));
    const parents = me ? me.parents.map((id) => byId.get(id)).filter(Boolean) : [];
    const children = me ? me.children.map((id) => byId.get(id)).filter(Boolean) : [];
    const counts = {};
    for (const s of flow.steps) counts[s.state] = (counts[s.state] || 0) + 1;
    const summary = Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(' · ');
    const head = el('p', { class: 'flow-head' },
      `${flow.kind || 'workflow'} ${flow.id} · step ${me ? me.step : '?'} of ${flow.steps.length} · ${summary}`);
    if (flow.failed) head.append(' · stopped by ', stepLink(byId.get(flow.failed) || { id: flow.failed, type: '', state: 'failed' }));
    const all = el('details', { class: 'flow-all' }, el('summary', {}, `All ${flow.steps.length} steps`),
      el('ol', {}, ...flow.steps.map((s) => el('li', {}, stepLink(s)))));
    body.replaceChildren(head, links('Parents', parents, 'parents'), links('Children', children, 'children'), all);
  }

  /** The Workflow block of job `jobId`'s detail: hidden unless the job is a step; it refreshes
   * itself while it is on the page. */
  function section(jobId) {
    const body = el('div', { class: 'flow-body' });
    const node = el('section', { class: 'block block-workflow', hidden: true }, el('h3', {}, 'Workflow'), body);
    async function refresh() {
      if (!document.hidden) {  // a hidden tab asks nothing, as common.js's poll
        try {
          const { workflow } = await getJSON(`/pykue/job/${encodeURIComponent(jobId)}/workflow`);
          node.hidden = !workflow;
          if (workflow) render(body, jobId, workflow);
        } catch (e) {
          body.replaceChildren(el('span', { class: 'muted' }, e.message));
        }
      }
      if (node.isConnected) setTimeout(refresh, EVERY);  // the detail was closed: stop
    }
    refresh();
    return node;
  }

  window.pykueWorkflow = { section };
})();
