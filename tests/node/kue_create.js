'use strict';
// Create jobs with Node Kue's own API and print their ids.
//
// Payload: {redis: {host, port} | {socket}, prefix, timeout_ms?,
//           jobs: [{type, data?, priority?, attempts?, delay?, ttl?, backoff?, backoff_source?,
//                   removeOnComplete?, searchKeys?, events?, logs?: [string | [fmt, ...args]]}],
//           watch?: bool}
// backoff_source is JavaScript function source (e.g. "function (attempts, delay) { return 250; }"):
// it becomes a real function, so Kue stores its source text the way a Node user's code would.
// Result: {ids: [number], jobs: [toJSON after save], errors: [string]}
// With watch=true it prints {"ready": true, "ids": [...]} after saving, then records the
// job-level events Kue delivers to these Job objects (job.on(...)) until every job has
// reached `complete` or `failed`, stdin closes or timeout_ms; the result adds
// job_events: {id: [{event, args, at}]}.
const h = require('./common');

function build(queue, spec) {
  const job = queue.create(spec.type, spec.data === undefined ? {} : spec.data);
  if (spec.priority !== undefined) job.priority(spec.priority);
  if (spec.attempts !== undefined) job.attempts(spec.attempts);
  if (spec.delay !== undefined) job.delay(spec.delay);
  if (spec.ttl !== undefined) job.ttl(spec.ttl);
  if (spec.backoff !== undefined) job.backoff(spec.backoff);
  // eslint-disable-next-line no-eval
  if (spec.backoff_source !== undefined) job.backoff(eval('(' + spec.backoff_source + ')'));
  if (spec.removeOnComplete !== undefined) job.removeOnComplete(spec.removeOnComplete);
  if (spec.searchKeys !== undefined) job.searchKeys(spec.searchKeys);
  if (spec.events !== undefined) job.events(spec.events);
  return job;
}

function watchJob(job, jobEvents, onFinal) {
  const log = (jobEvents[job.id] = []);
  const emit = job.emit;
  job.emit = function (name) {
    if (name !== 'newListener' && name !== 'removeListener') {
      log.push({ event: name, args: [].slice.call(arguments, 1), at: Date.now() });
      if (name === 'complete' || name === 'failed') onFinal(job.id);
    }
    return emit.apply(this, arguments);
  };
}

h.readPayload((payload) => {
  const queue = h.createQueue(payload);
  const ids = [];
  const saved = [];
  const errors = [];
  const jobEvents = {};
  const pendingFinal = new Set();
  const result = () => ({ ids, jobs: saved.map((j) => j.toJSON()), errors, job_events: jobEvents });

  const specs = payload.jobs || [];
  const saveNext = (i) => {
    if (i >= specs.length) return afterSaves();
    const spec = specs[i];
    const job = build(queue, spec);
    job.save((err) => {
      if (err) {
        errors.push(h.errorText(err));
      } else {
        ids.push(job.id);
        saved.push(job);
        (spec.logs || []).forEach((line) => job.log.apply(job, Array.isArray(line) ? line : [line]));
        if (payload.watch) {
          pendingFinal.add(job.id);
          watchJob(job, jobEvents, (id) => {
            pendingFinal.delete(id);
            if (!pendingFinal.size) h.finish(queue, result());
          });
        }
      }
      saveNext(i + 1);
    });
  };

  const afterSaves = () => {
    if (!payload.watch) return h.finish(queue, result());
    h.bound(payload, queue, result);
    h.send({ ready: true, ids });
    if (!pendingFinal.size) h.finish(queue, result());
  };

  saveNext(0);
});
