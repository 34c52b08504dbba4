// BullMQ adapter: one queue, one Worker; concurrency BENCH_CONCURRENCY, 50 unless set (the value its
// docs show for I/O-bound jobs).
'use strict';
const path = require('path');
const { record, redisOptions } = require('./_bench');

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY) || 50;
let queue;

module.exports = {
  CONCURRENCY,
  INFO: {
    version: require('bullmq/package.json').version,
    config: `new Worker(queue, fn, {concurrency: ${CONCURRENCY}}), default removeOnComplete/Fail (kept); `
      + 'W2b: two such processes',
    bulk: 'Queue.addBulk (one MULTI per 1,000 jobs)',
    multiprocess: false,
    types: '10 job names, one queue (one processor switches on name)',
    completed_key: 'bull:bench:completed', // W2n counts completions here
  },
  async setup() {
    const { Queue } = require('bullmq');
    queue = new Queue('bench', { connection: redisOptions() });
  },
  async teardown() {
    await queue.close();
  },
  enqueue(i, t) {
    return queue.add('task0', t === undefined ? { i } : { i, t });
  },
  enqueueBulk(items) {
    return queue.addBulk(items.map((i) => ({ name: 'task0', data: { i } })));
  },
  workerArgv(processes) {
    const argv = ['node', path.join(__dirname, '_bench.js'), 'bullmq_', 'worker'];
    return Array.from({ length: processes }, () => argv);
  },
  async worker() {
    const { Worker } = require('bullmq');
    const Redis = require('ioredis');
    const client = new Redis(redisOptions());
    const worker = new Worker('bench', (job) => record(client, job.data.i, job.data.t), {
      connection: Object.assign(redisOptions(), { maxRetriesPerRequest: null }),
      concurrency: CONCURRENCY,
    });
    process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
  },
};
