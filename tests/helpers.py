"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")

IN_CI = bool(os.environ.get("CI"))


def wait_for(
    check: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.01,
    message: str | Callable[[], Any] = "condition",
) -> T:
    """Poll ``check`` until it returns a truthy value; tests never sleep blindly. ``message``
    may be a callable, to describe the state at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def minute_with_room(room: float = 20.0) -> int:
    """The current epoch minute, first letting it roll over if fewer than ``room`` seconds are left.

    Per-minute metrics are windowed by the server's clock at the time of the request; a test that
    writes counters for "now" and reads them back must not straddle a minute boundary.
    """
    wait_for(lambda: 60 - time.time() % 60 > room, timeout=room + 1, interval=0.05, message="a fresh minute")
    return int(time.time() // 60)


def lease(queue: Any, worker_id: str, ms: int = 60_000) -> None:
    """Give ``worker_id`` its lease, as its upkeep would: nothing is claimed for a worker without one."""
    queue.client.set(queue.keys.worker_lease(worker_id), 1, px=ms)


def claim_as(queue: Any, worker_id: str, wanted: dict[str, int]) -> list[Any]:
    """Claim through claim_jobs.lua for a live worker (given its lease): the jobs claimed."""
    from pykue.job import now_ms

    lease(queue, worker_id)
    return list(queue.scripts.claim_jobs(queue.client, now_ms(), worker_id, wanted).claimed)


# Job.prototype.toJSON's key order (Kue's lib/queue/job.js), spelled out here so that tests
# check pykue against Kue rather than against pykue; keys whose value is undefined are left out.
KUE_TO_JSON_ORDER = [
    "id",
    "type",
    "data",
    "result",
    "priority",
    "progress",
    "progress_data",
    "state",
    "error",
    "created_at",
    "promote_at",
    "updated_at",
    "failed_at",
    "started_at",
    "duration",
    "delay",
    "workerId",
    "ttl",
    "attempts",
]


def run_async(main: Callable[[], Awaitable[T]], timeout: float = 120.0) -> T:
    """``asyncio.run(main())`` as an application runs its event loop: on a thread of its own
    (see ``off_the_test_thread``)."""
    return off_the_test_thread(lambda: asyncio.run(main()), timeout)  # type: ignore[arg-type]


def off_the_test_thread(fn: Callable[[], T], timeout: float = 120.0) -> T:
    """``fn()`` on a thread of its own, as a server runs a request, its exception raised here.
    Not on the test's thread: the browser tests' Playwright keeps an event loop running there
    for the whole session, where ``asyncio.run`` refuses to start and Django refuses to touch
    its database."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="test-off-thread", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"still running after {timeout}s")
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


def flush_scripts(client: Any) -> None:
    """Forget every script and function Redis holds, as a restart or failover to a server
    that never saw them does: pykue's next calls are refused (NOSCRIPT, function not found)
    and must load them and go again."""
    client.script_flush()
    client.function_flush()


def is_loaded(client: Any, script: Any) -> bool:
    """Whether Redis holds ``script`` (a LuaScript) in the form pykue calls it now: its
    function's library, or its source."""
    from pykue.transport import functions

    if functions.head(script)[0] == "FCALL":
        return bool(client.function_list(library=script.function))
    return bool(client.script_exists(script.sha)[0])
