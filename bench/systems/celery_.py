"""Celery adapter: Redis broker, no result backend, gevent pool (Celery's advice for I/O-bound tasks)."""

from __future__ import annotations

import celery
from _bench import TASK_TYPES, URL, bin_path, record
from celery import Celery, group
from redis import Redis

CONCURRENCY = 100

INFO = {
    "version": celery.__version__,
    "config": f"celery worker -P gevent -c {CONCURRENCY}, prefetch multiplier 4 (default), "
    "task_ignore_result, no result backend; W2b: two such processes",
    "bulk": "group(...).apply_async() (publishes one message at a time)",
    "multiprocess": False,
    "types": "10 registered tasks, one queue",
}

app = Celery("celery_", broker=URL)
app.conf.update(
    task_ignore_result=True,
    result_backend=None,
    broker_connection_retry_on_startup=True,
    worker_prefetch_multiplier=4,
    worker_hijack_root_logger=False,
)
conn = Redis.from_url(URL)


def _body(i, t=None):
    record(conn, i, t)


for _name in TASK_TYPES:
    globals()[_name] = app.task(name=_name)(_body)


def enqueue(i, t=None):
    task0.delay(i, t)  # noqa: F821 (defined in the loop above)


def enqueue_bulk(items):
    group(task0.s(i) for i in items).apply_async()  # noqa: F821


def worker_argv(processes):
    argv = [
        bin_path("celery"),
        "-A",
        "celery_",
        "worker",
        "-P",
        "gevent",
        "-c",
        str(CONCURRENCY),
        "--loglevel",
        "WARNING",
    ]
    return [argv] * processes
