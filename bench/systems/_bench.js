// What the Node adapters share, and the driver that runs one adapter action.
// The same contract as _bench.py:  node _bench.js <adapter> <action> [--n N] [--rate R]
// prints one JSON object on its last line. Packages come from bench/.node (NODE_PATH).
'use strict';
const path = require('path');
const { performance } = require('perf_hooks');

const URL = process.env.BENCH_REDIS_URL || '';
const RUNS = 'bench:runs';
const LAT = 'bench:lat';
const TASK_TYPES = Array.from({ length: 10 }, (_, k) => `task${k}`);
const BULK_CHUNK = 1000;

function nowSeconds() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function redisOptions() {
  const u = new (require('url').URL)(URL);
  return { host: u.hostname, port: Number(u.port) };
}

// The task body: one small write that counts the job (see _bench.py).
const EMPTY_TASK = process.env.BENCH_TASK === 'empty'; // W2n: the queue's own cost, no write at all

function record(client, i, t) {
  if (EMPTY_TASK) return Promise.resolve();
  if (t === undefined || t === null) return client.hincrby(RUNS, i, 1);
  return client.hset(LAT, i, (nowSeconds() - t) * 1000);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function enqueueMany(adapter, n, bulk) {
  const ids = Array.from({ length: n }, (_, i) => i);
  const start = performance.now();
  if (bulk) {
    for (let k = 0; k < n; k += BULK_CHUNK) await adapter.enqueueBulk(ids.slice(k, k + BULK_CHUNK));
  } else {
    for (const i of ids) await adapter.enqueue(i);
  }
  return (performance.now() - start) / 1000;
}

async function paced(adapter, n, rate) {
  const Redis = require('ioredis');
  const client = new Redis(redisOptions());
  await adapter.enqueue(-1);
  const w0 = performance.now();
  while (!(await client.hexists(RUNS, -1))) {
    if (performance.now() - w0 > 60000) throw new Error('the warm-up job did not run within 60s');
    await sleep(10);
  }
  const warmup = (performance.now() - w0) / 1000;
  client.disconnect();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const delay = start + (i * 1000) / rate - performance.now();
    if (delay > 0) await sleep(delay);
    await adapter.enqueue(i, nowSeconds());
  }
  const elapsed = (performance.now() - start) / 1000;
  return { warmup_seconds: warmup, rate: n / elapsed };
}

// W4b: the task body alone, no queue (see _bench.py): one ioredis client, one call at a
// time, then `inFlight` calls outstanding at once (how a BullMQ worker with that concurrency runs it).
async function taskBody(n, inFlight) {
  const Redis = require('ioredis');
  const client = new Redis(redisOptions());
  const out = { client: `ioredis ${require('ioredis/package.json').version}`, in_flight: inFlight };
  for (const [label, lanes] of [['serial', 1], ['concurrent', inFlight]]) {
    await client.del(RUNS);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < n; i += lanes) await record(client, i);
    }));
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const landed = await client.hlen(RUNS);
    if (landed !== n) throw new Error(`${label}: ${landed} of ${n} writes landed`);
    out[`${label}_per_s`] = n / seconds;
    out[`${label}_cpu_us`] = (used.user + used.system) / n;
  }
  await client.del(RUNS);
  await client.quit();
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const [name, action] = args;
  const opt = (flag, dflt) => {
    const k = args.indexOf(flag);
    return k >= 0 ? Number(args[k + 1]) : dflt;
  };
  const adapter = require(path.join(__dirname, name));
  let out;
  if (action === 'info') {
    out = Object.assign({}, adapter.INFO, { workers: { 1: adapter.workerArgv(1), 2: adapter.workerArgv(2) } });
    if (!adapter.enqueueBulk) out.bulk = null;
  } else if (action === 'task_body') {
    out = await taskBody(opt('--n', 0), opt('--in-flight', 0) || adapter.CONCURRENCY || 10);
  } else if (action === 'worker') {
    await adapter.worker();
    return; // runs until killed
  } else {
    await adapter.setup();
    if (action === 'enqueue') out = { seconds: await enqueueMany(adapter, opt('--n', 0), false) };
    else if (action === 'enqueue_bulk') out = { seconds: await enqueueMany(adapter, opt('--n', 0), true) };
    else if (action === 'latency') out = await paced(adapter, opt('--n', 0), opt('--rate', 200));
    else throw new Error(`unknown action ${action}`);
    await adapter.teardown();
  }
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

module.exports = { URL, RUNS, LAT, TASK_TYPES, record, redisOptions, nowSeconds };

if (require.main === module) {
  main().catch((err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  });
}
