"""SAQ adapter: asyncio, concurrency 10 (default), --workers N for the second process."""

from __future__ import annotations

from importlib.metadata import version

from _bench import TASK_TYPES, URL, arecord, bin_path
from redis.asyncio import Redis
from saq import Queue

CONCURRENCY = 10

INFO = {
    "version": version("saq"),
    "config": f"saq settings --workers N, concurrency={CONCURRENCY} (default)",
    "bulk": None,
    "multiprocess": True,
    "types": "10 functions, one queue",
}

queue = Queue.from_url(URL, name="bench")
aconn = None


def _make(name):
    async def body(ctx, *, i, t=None):
        await arecord(_conn(), i, t)

    body.__name__ = body.__qualname__ = name
    return body


def _conn():
    global aconn
    if aconn is None:
        aconn = Redis.from_url(URL)
    return aconn


settings = {
    "queue": queue,
    "functions": [_make(name) for name in TASK_TYPES],
    "concurrency": CONCURRENCY,
}


async def setup():
    await queue.connect()


async def teardown():
    await queue.disconnect()


async def enqueue(i, t=None):
    await queue.enqueue("task0", i=i, t=t)


def worker_argv(processes):
    return [[bin_path("saq"), "saq_.settings", "--workers", str(processes)]]
