'use strict';
// Read jobs and queue views back through Node Kue's own API.
//
// Payload: {redis, prefix, timeout_ms?,
//           ids?: [id],    -> Job.get(id).toJSON(), Job.log(id), and what Job.get loaded for backoff
//                             and removeOnComplete (toJSON leaves both out)
//           counts?: bool, count_types?: [type],   -> the five *Count() results, global and per type
//           ranges?: [{kind: "range"|"state"|"type", state?, type?, from?, to?, order?}],
//           types?: bool, state_ids?: [state], work_time?: bool}
// Result: {jobs: [{id, json | null, error | null, log, backoff, removeOnComplete}], counts: {state: n},
//          counts_by_type: {type: {state: n}}, ranges: [[toJSON] | {error}], types: [..],
//          state_ids: {state: [id]}, work_time}
const h = require('./common');

const STATES = ['inactive', 'active', 'complete', 'failed', 'delayed'];

// Run node-style async tasks one after another, then call done().
function series(tasks, done) {
  const next = (i) => (i >= tasks.length ? done() : tasks[i](() => next(i + 1)));
  next(0);
}

function getJob(Job, id, out) {
  return (next) => {
    Job.get(id, (err, job) => {
      const entry = { id, json: null, error: null, log: [], backoff: null, removeOnComplete: null };
      out.push(entry);
      if (err) entry.error = h.errorText(err);
      if (job && job.type) {
        entry.json = job.toJSON();
        entry.backoff = h.describeBackoff(job._backoff);
        entry.removeOnComplete = job.removeOnComplete() === undefined ? null : job.removeOnComplete();
      }
      Job.log(id, (logErr, lines) => {
        entry.log = logErr ? { error: h.errorText(logErr) } : lines;
        next();
      });
    });
  };
}

function getRange(Job, spec, out) {
  const from = spec.from === undefined ? 0 : spec.from;
  const to = spec.to === undefined ? -1 : spec.to;
  const order = spec.order || 'asc';
  const collect = (next) => (err, jobs) => {
    out.push(err ? { error: h.errorText(err) } : jobs.map((j) => j.toJSON()));
    next();
  };
  return (next) => {
    if (spec.kind === 'type') Job.rangeByType(spec.type, spec.state, from, to, order, collect(next));
    else if (spec.kind === 'state') Job.rangeByState(spec.state, from, to, order, collect(next));
    else Job.range(from, to, order, collect(next));
  };
}

function counter(queue, type, st, into) {
  const method = st + 'Count';
  return (next) => {
    const cb = (err, n) => {
      into[st] = err ? { error: h.errorText(err) } : n;
      next();
    };
    if (type === null) queue[method](cb);
    else queue[method](type, cb);
  };
}

h.readPayload((payload) => {
  const queue = h.createQueue(payload);
  const Job = h.kue.Job;
  const result = { jobs: [], ranges: [] };
  const tasks = [];

  (payload.ids || []).forEach((id) => tasks.push(getJob(Job, id, result.jobs)));
  (payload.ranges || []).forEach((spec) => tasks.push(getRange(Job, spec, result.ranges)));
  if (payload.counts) {
    result.counts = {};
    STATES.forEach((st) => tasks.push(counter(queue, null, st, result.counts)));
  }
  if (payload.count_types) {
    result.counts_by_type = {};
    payload.count_types.forEach((type) => {
      result.counts_by_type[type] = {};
      STATES.forEach((st) => tasks.push(counter(queue, type, st, result.counts_by_type[type])));
    });
  }
  if (payload.types) {
    tasks.push((next) => queue.types((err, types) => { result.types = err ? { error: h.errorText(err) } : types.sort(); next(); }));
  }
  if (payload.state_ids) {
    result.state_ids = {};
    payload.state_ids.forEach((st) => tasks.push((next) => queue.state(st, (err, ids) => {
      result.state_ids[st] = err ? { error: h.errorText(err) } : ids;
      next();
    })));
  }
  if (payload.work_time) {
    tasks.push((next) => queue.workTime((err, n) => { result.work_time = err ? { error: h.errorText(err) } : n; next(); }));
  }

  h.bound(payload, queue, () => result);
  series(tasks, () => h.finish(queue, result));
});
