'use strict';
// A Node Kue worker whose behaviour per job comes from the job's data.
//
// Payload: {redis, prefix, types: [type | {type, concurrency}], max_jobs?, max_runs?,
//           timeout_ms?, settle_ms?, shutdown_timeout_ms?, promotion?: {interval, lockTtl, limit}}
//   max_jobs: stop after this many jobs ended for good (the worker's `job complete` + `job failed`)
//   max_runs: stop after this many handler runs ended (those plus `job failed attempt`)
//   Without either it runs until stdin closes or timeout_ms.
// Job data drives the handler, in this order:
//   data.logs: [string | [fmt, ...args]]  -> job.log(...) each
//   data.progress: [[done, total, data?]] -> job.progress(...) each
//   data.sleep_ms: wait before finishing
//   data.behaviour: "ok" (default): done(null, data.result)
//                   "progress": like ok; defaults to logs ["progress"] and progress [[1, 2], [2, 2]]
//                   "fail": done(new Error(data.message || "failed"))
//                   "fail_string": done(data.message || "failed")
//                   "fail_until": fail (as "fail") while this run's attempt number <= data.fail_attempts,
//                                 then ok
//                   "hang": never call done
// Prints {"ready": true, "worker_ids": [...]} once subscribed and processing. Result:
//   {runs: [{id, type, data, attempt, seen, backoff, started, outcome}],
//    outcomes: [{event, id, at}]  (the worker's own job complete / failed / failed attempt),
//    events: [{event, args, at}]  (every queue-level "job ..." event, as Kue's listeners got it)}
const h = require('./common');

function behaviourOf(data) {
  return (data && data.behaviour) || 'ok';
}

function prepare(job, data) {
  const progress = behaviourOf(data) === 'progress';
  const logs = data.logs || (progress ? ['progress'] : []);
  const steps = data.progress || (progress ? [[1, 2], [2, 2]] : []);
  logs.forEach((line) => job.log.apply(job, Array.isArray(line) ? line : [line]));
  steps.forEach((step) => job.progress.apply(job, step));
}

function outcome(data, attempt) {
  const b = behaviourOf(data);
  if (b === 'hang') return 'hang';
  if (b === 'fail' || b === 'fail_string') return b;
  if (b === 'fail_until') return attempt <= (data.fail_attempts || 0) ? 'fail' : 'ok';
  return 'ok';
}

function handler(runs) {
  return function (job, done) {
    const data = job.data || {};
    const seen = job.toJSON();
    const attempt = seen.attempts.made + 1;
    const result = outcome(data, attempt);
    runs.push({
      id: job.id, type: job.type, data, attempt, seen,
      backoff: h.describeBackoff(job._backoff), started: Date.now(), outcome: result,
    });
    prepare(job, data);
    const finishRun = () => {
      if (result === 'ok') done(null, data.result);
      else if (result === 'fail') done(new Error(data.message || 'failed'));
      else if (result === 'fail_string') done(data.message || 'failed');
    };
    if (data.sleep_ms) setTimeout(finishRun, data.sleep_ms);
    else finishRun();
  };
}

h.readPayload((payload) => {
  const queue = h.createQueue(payload);
  const runs = [];
  const outcomes = [];
  const events = h.recordQueueEvents(queue);
  const result = () => ({ runs, outcomes, events });
  const settleMs = payload.settle_ms === undefined ? 1000 : payload.settle_ms;
  const shutdownMs = payload.shutdown_timeout_ms || 1000;

  // After the stop condition, give this process's own pub/sub echo of the final events a
  // moment to arrive, so `events` holds what Kue's queue listeners saw.
  const settleAndFinish = () => {
    const deadline = Date.now() + settleMs;
    const echoed = (o) => o.event === 'job failed attempt' || events.some(
      (e) => e.event === o.event && String(e.args[0]) === String(o.id));
    (function poll() {
      if (outcomes.every(echoed) || Date.now() >= deadline) return h.finish(queue, result(), shutdownMs);
      setTimeout(poll, 10);
    })();
  };

  const check = () => {
    const finals = outcomes.filter((o) => o.event !== 'job failed attempt').length;
    if ((payload.max_jobs && finals >= payload.max_jobs) || (payload.max_runs && outcomes.length >= payload.max_runs)) {
      settleAndFinish();
    }
  };

  const fn = handler(runs);
  (payload.types || []).forEach((spec) => {
    const type = typeof spec === 'string' ? spec : spec.type;
    const concurrency = typeof spec === 'string' ? 1 : spec.concurrency || 1;
    queue.process(type, concurrency, fn);
  });
  queue.workers.forEach((worker) => {
    ['job complete', 'job failed', 'job failed attempt'].forEach((name) => {
      worker.on(name, (job) => {
        outcomes.push({ event: name, id: job.id, at: Date.now() });
        check();
      });
    });
  });

  h.bound(payload, queue, result, shutdownMs);
  h.whenSubscribed(() => h.send({ ready: true, worker_ids: queue.workers.map((w) => w.id) }));
});
