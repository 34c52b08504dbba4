"""pykue's asyncio producer: ``await task0.adelay(i=i)`` (pykue/aio), the same worker as pykue_.

Only the enqueue side differs from pykue_, so this adapter is for the enqueue workloads
(bench/async_enqueue.py); run.py accepts it as ``--systems pykue-async`` too.
"""

from __future__ import annotations

import pykue_
from pykue_ import queue, worker_argv  # noqa: F401 (worker_argv: the adapter interface)

INFO = dict(
    pykue_.INFO,
    config="await task.adelay(...) on redis.asyncio (pykue/aio); worker as pykue",
    bulk="await task.adelay_many (one round trip per call, pipelined scripts of 250 jobs)",
)
task0 = queue.tasks["task0"]


async def enqueue(i, t=None):
    if t is None:
        await task0.adelay(i=i)
    else:
        await task0.adelay(i=i, t=t)


async def enqueue_bulk(items):
    await task0.adelay_many([{"i": i} for i in items])


async def teardown():
    await queue.aclose()
