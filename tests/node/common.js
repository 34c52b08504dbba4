'use strict';
// Plumbing shared by the harness scripts (driven by tests/kue_node.py).
//
// Protocol: the payload is one JSON object on the first line of stdin. Every line a script
// prints on stdout is one JSON object: an optional {"ready": true, ...} once it is listening,
// then exactly one final result line. Closing stdin asks a long-running script to stop early.
// Every script also stops itself after payload.timeout_ms and always calls queue.shutdown.

const kue = require('kue');
const kueEvents = require('kue/lib/queue/events');
const kueRedis = require('kue/lib/redis');

const state = { stopHandlers: [], stdinClosed: false, finished: false };

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fatal(err) {
  send({ fatal: String((err && err.stack) || err) });
  process.exit(2);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

function readPayload(cb) {
  let buf = '';
  let delivered = false;
  const deliver = (text) => {
    delivered = true;
    let payload;
    try {
      payload = JSON.parse(text);
    } catch (err) {
      return fatal(new Error('bad JSON payload on stdin: ' + err.message));
    }
    cb(payload);
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    if (delivered) return;
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl >= 0) deliver(buf.slice(0, nl));
  });
  process.stdin.on('end', () => {
    state.stdinClosed = true;
    if (!delivered) return deliver(buf);
    state.stopHandlers.forEach((fn) => fn('stdin closed'));
  });
}

// Register fn(reason) to run when the driver closes stdin.
function onStop(fn) {
  state.stopHandlers.push(fn);
  if (state.stdinClosed) fn('stdin closed');
}

function createQueue(payload) {
  const options = { prefix: payload.prefix || 'q', redis: payload.redis };
  if (payload.promotion) options.promotion = payload.promotion;
  if (payload.jobEvents !== undefined) options.jobEvents = payload.jobEvents;
  const queue = kue.createQueue(options);
  const errors = [];
  queue.on('error', (err) => errors.push(String((err && err.message) || err)));
  queue.harnessErrors = errors;
  return queue;
}

// Record every queue-level event ("job complete", "job enqueue", ...) exactly as Kue's
// listeners receive it, in arrival order, with a millisecond timestamp.
function recordQueueEvents(queue, onEvent) {
  const log = [];
  const emit = queue.emit;
  queue.emit = function (name) {
    if (typeof name === 'string' && name.indexOf('job ') === 0) {
      const entry = { event: name, args: [].slice.call(arguments, 1), at: Date.now() };
      log.push(entry);
      if (onEvent) onEvent(entry);
    }
    return emit.apply(this, arguments);
  };
  return log;
}

// Call cb once this process's SUBSCRIBE on <prefix>:events is acknowledged.
function whenSubscribed(cb, timeoutMs) {
  const deadline = Date.now() + (timeoutMs || 5000);
  (function poll() {
    if (kueEvents.subscribed) return cb();
    if (Date.now() > deadline) return fatal(new Error('no SUBSCRIBE acknowledgement from Redis'));
    setTimeout(poll, 5);
  })();
}

// Every node_redis client Kue holds: the queue's, the shared publisher, pub/sub, the lock client.
function kueClients(queue) {
  return [kueRedis._client, kueRedis._pubsub, queue.client, queue.lockClient].filter(Boolean);
}

// Shut the queue down, wait until its Redis connections have really ended (so a PUBLISH still
// in a client's offline queue is not lost), then print the final result line and exit. Runs once.
function finish(queue, result, shutdownTimeoutMs) {
  if (state.finished) return;
  state.finished = true;
  result.queue_errors = queue.harnessErrors || [];
  const clients = kueClients(queue);
  const deadline = Date.now() + (shutdownTimeoutMs || 1000) + 3000;
  const exit = () => {
    send(result);
    process.exit(0);
  };
  const waitForClients = () => {
    if (clients.every((c) => c.emitted_end)) return exit();
    if (Date.now() > deadline) {
      result.shutdown_timed_out = true;
      return exit();
    }
    setTimeout(waitForClients, 5);
  };
  const hardStop = setTimeout(() => {
    result.shutdown_timed_out = true;
    exit();
  }, deadline - Date.now() + 1000);
  hardStop.unref();
  queue.shutdown(shutdownTimeoutMs || 1000, (err) => {
    if (err) result.queue_errors.push('shutdown: ' + err.message);
    // Kue's cleanup removed every queue listener, but its clients still forward errors there.
    queue.on('error', (e) => result.queue_errors.push(String((e && e.message) || e)));
    waitForClients();
  });
}

// Stop with result() after payload.timeout_ms (marking timed_out), or when stdin closes.
function bound(payload, queue, result, shutdownTimeoutMs) {
  const timer = setTimeout(() => {
    const r = result();
    r.timed_out = true;
    finish(queue, r, shutdownTimeoutMs);
  }, payload.timeout_ms || 20000);
  onStop((reason) => {
    clearTimeout(timer);
    const r = result();
    r.stopped = reason;
    finish(queue, r, shutdownTimeoutMs);
  });
  return timer;
}

// What Job.get made of the stored backoff (toJSON omits it): JSON when Kue parsed it to
// data, {"function": source} when Kue evaluated it to a function.
function describeBackoff(backoff) {
  if (backoff === undefined || backoff === null) return null;
  if (typeof backoff === 'function') return { function: backoff.toString() };
  return backoff;
}

function errorText(err) {
  return String((err && err.message) || err);
}

module.exports = {
  kue,
  send,
  fatal,
  readPayload,
  onStop,
  createQueue,
  recordQueueEvents,
  whenSubscribed,
  finish,
  bound,
  describeBackoff,
  errorText,
};
