"""arq adapter: asyncio, max_jobs 10 (default), poll_delay 0.01 s instead of the default 0.5 s."""

from __future__ import annotations

import arq
from _bench import TASK_TYPES, URL, arecord, bin_path
from arq import create_pool
from arq.connections import RedisSettings

POLL_DELAY = 0.01

INFO = {
    "version": getattr(arq, "VERSION", None) or getattr(arq, "__version__", "?"),
    "config": f"arq WorkerSettings, max_jobs=10 (default), poll_delay={POLL_DELAY}s (default 0.5s), "
    "keep_result default, log level WARNING; W2b: two such processes",
    "bulk": None,
    "multiprocess": False,
    "types": "10 functions, one queue",
}

settings = RedisSettings.from_dsn(URL)


def _make(name):
    async def body(ctx, i, t=None):
        await arecord(ctx["redis"], i, t)

    body.__name__ = body.__qualname__ = name
    return body


class WorkerSettings:
    functions = [_make(name) for name in TASK_TYPES]
    redis_settings = settings
    poll_delay = POLL_DELAY
    max_jobs = 10


pool = None


async def setup():
    global pool
    pool = await create_pool(settings)


async def teardown():
    await pool.aclose()


async def enqueue(i, t=None):
    await pool.enqueue_job("task0", i, t)


# arq logs every job start and finish at INFO; like the other workers, run it at WARNING.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": "WARNING"}},
    "loggers": {"arq": {"handlers": ["console"], "level": "WARNING"}},
}


def worker_argv(processes):
    return [[bin_path("arq"), "arq_.WorkerSettings", "--custom-log-dict", "arq_.LOG_CONFIG"]] * processes
