"""The event loop that runs a worker's ``async def`` tasks: uvloop where it is installed
(``pip install 'pykue[fast]'``), else asyncio's own, as uvicorn's ``--loop auto`` chooses.

A task's awaits on Redis, HTTP or a database are the loop's work: with uvloop, the benchmark's
``async def`` task (one ``redis.asyncio`` write) cost the worker 113 us of CPU per job instead
of 133, and ran at 7,384 jobs/s instead of 6,648 (concurrency 10, docs/benchmarks.md), which
took the async path past the thread path's 7,149. ``loop="asyncio"`` (``--loop asyncio``) keeps
asyncio's loop, for a library that needs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..exceptions import ConfigurationError

LOOPS = ("auto", "asyncio", "uvloop")
NewLoop = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(kind: str = "auto") -> NewLoop:
    """What makes the loop: ``"auto"`` uvloop if importable, else asyncio; ``"uvloop"``
    requires it; ``"asyncio"`` asyncio's. Raises ConfigurationError for another name, or for
    ``"uvloop"`` when it is not installed."""
    if kind not in LOOPS:
        raise ConfigurationError(f"event loop {kind!r}: expected one of {', '.join(LOOPS)}")
    if kind == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        if kind == "uvloop":
            raise ConfigurationError(
                "event loop 'uvloop': the uvloop package is not installed (pip install 'pykue[fast]')"
            ) from None
        return asyncio.new_event_loop
    return uvloop.new_event_loop
