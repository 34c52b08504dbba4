"""Huey adapter: RedisHuey without a result store, thread workers (Huey's advice for I/O-bound work)."""

from __future__ import annotations

import huey as huey_pkg
from _bench import TASK_TYPES, URL, bin_path, record
from huey import RedisHuey
from redis import Redis

WORKERS = 8

INFO = {
    "version": huey_pkg.__version__,
    "config": f"huey_consumer -k thread -w {WORKERS}, RedisHuey(results=False) (blocking BRPOP); "
    "W2b: two such processes",
    "bulk": "task.map(...) (enqueues one at a time)",
    "multiprocess": False,
    "types": "10 tasks, one queue",
}

huey = RedisHuey("bench", url=URL, results=False)
conn = Redis.from_url(URL)


def _make(name):
    def body(i, t=None):
        record(conn, i, t)

    body.__name__ = name
    return huey.task(name=name)(body)


for _name in TASK_TYPES:
    globals()[_name] = _make(_name)


def enqueue(i, t=None):
    task0(i, t)  # noqa: F821 (calling a Huey task enqueues it)


def enqueue_bulk(items):
    task0.map([(i,) for i in items])  # noqa: F821


def worker_argv(processes):
    argv = [bin_path("huey_consumer"), "huey_.huey", "-k", "thread", "-w", str(WORKERS), "-q"]
    return [argv] * processes
