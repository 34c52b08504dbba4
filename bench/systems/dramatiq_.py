"""Dramatiq adapter: RedisBroker, default middleware, --processes N --threads 8 (the defaults)."""

from __future__ import annotations

import dramatiq
from _bench import TASK_TYPES, URL, bin_path, record
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

THREADS = 8

INFO = {
    "version": dramatiq.__version__,
    "config": f"dramatiq --processes N --threads {THREADS} (default threads), RedisBroker, "
    "max_retries=0, no Results middleware",
    "bulk": "group(...).run() (sends one message at a time)",
    "multiprocess": True,
    "types": "10 actors, one queue",
}

broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
conn = Redis.from_url(URL)


def _body(i, t=None):
    record(conn, i, t)


for _name in TASK_TYPES:
    globals()[_name] = dramatiq.actor(_body, actor_name=_name, queue_name="bench", max_retries=0)


def enqueue(i, t=None):
    task0.send(i, t)  # noqa: F821


def enqueue_bulk(items):
    dramatiq.group(task0.message(i) for i in items).run()  # noqa: F821


def worker_argv(processes):
    return [[bin_path("dramatiq"), "dramatiq_", "--processes", str(processes), "--threads", str(THREADS)]]
