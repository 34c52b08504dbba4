"""RQ adapter: one queue, SimpleWorker (RQ's own advice for jobs of a few milliseconds)."""

from __future__ import annotations

import rq
from _bench import TASK_TYPES, URL, bin_path, record
from redis import Redis
from rq import Queue

INFO = {
    "version": rq.__version__,
    "config": "rq worker -w rq.worker.SimpleWorker (no fork per job), one queue; W2b: two such processes",
    "bulk": "Queue.enqueue_many (one pipeline per 1,000 jobs)",
    "multiprocess": False,
    "types": "10 functions, one queue",
}

conn = Redis.from_url(URL)
queue = Queue("bench", connection=conn)


def task0(i, t=None):
    record(conn, i, t)


# Ten task types, as a real app registers them; only task0 is ever enqueued.
for _name in TASK_TYPES[1:]:
    globals()[_name] = task0


def enqueue(i, t=None):
    queue.enqueue(task0, i, t)


def enqueue_bulk(items):
    queue.enqueue_many([Queue.prepare_data(task0, (i,)) for i in items])


def worker_argv(processes):
    argv = [bin_path("rq"), "worker", "--url", URL, "-w", "rq.worker.SimpleWorker", "--quiet", "bench"]
    return [argv] * processes
