"""The loop that runs ``async def`` tasks: uvloop where it is installed (the default,
``auto``), asyncio's own on request, and a clear error for a loop that cannot be had."""

from __future__ import annotations

import asyncio
import sys

import pytest

import pykue
from pykue.worker import Worker

uvloop = pytest.importorskip("uvloop", reason="uvloop is in the dev extra; this machine has none")


def loop_module_of_a_task(queue, workers, **options) -> str:
    """Run one async job on a burst worker; the module of the loop class it ran on."""
    seen: list[str] = []

    @queue.task("where", concurrency=1)
    async def where():
        seen.append(type(asyncio.get_running_loop()).__module__)
        await asyncio.sleep(0)
        return "ran"

    job = where.delay()
    workers.burst(queue, **options)
    assert job.refresh().state == "complete"
    return seen[0]


def test_by_default_async_tasks_run_on_uvloop(app_queue, workers):
    assert loop_module_of_a_task(app_queue, workers).startswith("uvloop")


def test_asyncio_loop_on_request(app_queue, workers):
    assert loop_module_of_a_task(app_queue, workers, event_loop="asyncio").startswith("asyncio")


def test_an_unknown_loop_is_refused_naming_the_choices(app_queue):
    @app_queue.task("any")
    async def any_task():
        return None

    with pytest.raises(pykue.ConfigurationError, match="'tornado': expected one of auto, asyncio, uvloop"):
        Worker(app_queue, event_loop="tornado")


def test_uvloop_asked_for_where_it_is_missing_is_refused(app_queue, monkeypatch):
    @app_queue.task("any")
    async def any_task():
        return None

    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed: import fails
    with pytest.raises(
        pykue.ConfigurationError, match=r"uvloop package is not installed \(pip install 'pykue\[fast\]'\)"
    ):
        Worker(app_queue, event_loop="uvloop")
    # and auto falls back to asyncio's loop
    Worker(app_queue, event_loop="auto")


def test_the_cli_refuses_an_unknown_loop(spawn_worker):
    worker = spawn_worker("--loop", "tornado", ready=False)
    assert worker.wait(timeout=20) == 2
    assert "Invalid value for '--loop'" in worker.output()
