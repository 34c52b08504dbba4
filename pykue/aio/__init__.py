"""pykue for asyncio applications: enqueue, read and await jobs on redis.asyncio.

``await task.adelay(...)``, ``await task.aschedule(when, ...)``, ``await task.adelay_many(...)``,
``await job.await_result(timeout)``, ``await queue.aget_job(id)``, ``await queue.acounts()``:
the same checks, encoding and Lua scripts as the sync calls, no thread per call, and one
connection pool per event loop shared by every coroutine.
"""

from __future__ import annotations

from .clients import MAX_CONNECTIONS, mirror
from .producer import AsyncProducer

__all__ = ["MAX_CONNECTIONS", "AsyncProducer", "mirror"]
