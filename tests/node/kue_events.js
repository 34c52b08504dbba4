'use strict';
// Record the queue-level events Node Kue's listeners receive (queue.on('job complete', ...)).
//
// Payload: {redis, prefix, timeout_ms?, count?, events?: [name], ids?: [id]}
//   Events are matched by Kue's queue-level name ("job enqueue", "job complete", ...); `events`
//   and `ids` filter which ones are kept (none given: all). Stops after `count` kept events,
//   when stdin closes, or after timeout_ms.
// Prints {"ready": true} once the SUBSCRIBE is acknowledged, so the driver can publish safely.
// Result: {events: [{event, args, at}]}, args exactly as the listener got them: (id, ...extra).
const h = require('./common');

h.readPayload((payload) => {
  const queue = h.createQueue(payload);
  const names = payload.events || null;
  const ids = payload.ids ? payload.ids.map(String) : null;
  const kept = [];
  const result = () => ({ events: kept });

  h.recordQueueEvents(queue, (entry) => {
    if (names && names.indexOf(entry.event) < 0) return;
    if (ids && ids.indexOf(String(entry.args[0])) < 0) return;
    kept.push(entry);
    if (payload.count && kept.length >= payload.count) h.finish(queue, result());
  });
  // A queue.on('job ...') listener is what a Node user writes; it also ensures the subscription.
  queue.on('job enqueue', () => {});

  h.bound(payload, queue, result);
  h.whenSubscribed(() => h.send({ ready: true }));
});
