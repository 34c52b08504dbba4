// Kue 0.11.6 adapter: queue.process(type, C, fn) for each of the ten types; C is BENCH_CONCURRENCY (10).
'use strict';
const path = require('path');
const { TASK_TYPES, record, redisOptions } = require('./_bench');

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY) || 10;
let queue;

function createQueue() {
  const kue = require('kue');
  return kue.createQueue({ prefix: 'q', redis: redisOptions() });
}

module.exports = {
  CONCURRENCY,
  INFO: {
    version: require('kue/package.json').version,
    config: `queue.process(type, ${CONCURRENCY}, fn) for each of the 10 types; W2b: two such processes`,
    bulk: null,
    multiprocess: false,
    types: '10 types, each its own BLPOP client',
  },
  async setup() {
    queue = createQueue();
  },
  async teardown() {
    await new Promise((resolve) => queue.shutdown(1000, resolve));
  },
  enqueue(i, t) {
    return new Promise((resolve, reject) => {
      queue.create('task0', t === undefined ? { i } : { i, t }).save((err) => (err ? reject(err) : resolve()));
    });
  },
  workerArgv(processes) {
    const argv = ['node', path.join(__dirname, '_bench.js'), 'kue_', 'worker'];
    return Array.from({ length: processes }, () => argv);
  },
  async worker() {
    const Redis = require('ioredis');
    const client = new Redis(redisOptions());
    queue = createQueue();
    for (const type of TASK_TYPES) {
      queue.process(type, CONCURRENCY, (job, done) => {
        record(client, job.data.i, job.data.t).then(() => done(), done);
      });
    }
    process.on('SIGTERM', () => queue.shutdown(3000, () => process.exit(0)));
  },
};
