"""Kue's ``ctx`` for a running job: pause and resume this process's intake of its type."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from ..exceptions import PykueError

if TYPE_CHECKING:
    from ..job import Job
    from .slots import Slots

log = logging.getLogger("pykue.worker")


class WorkerContext:
    def __init__(self, slots: Slots, job: Job) -> None:
        self._slots = slots
        self._job = job

    def pause(self, timeout: float | None = None) -> bool:
        """Take no new jobs of this type in this process. With a timeout, also wait up to that
        many seconds for the type's other running jobs to end; True once none is left. An
        async task awaits ``pause_async`` to wait: blocking here would stop the event loop
        that runs those other jobs."""
        if timeout is not None and _on_event_loop():
            raise PykueError(
                "ctx.pause(timeout) would block the event loop the other jobs run on: "
                "in an async task, use `await job.ctx.pause_async(timeout)`"
            )
        self._pause_intake()
        if timeout is None:
            return True
        return self._slots.wait_others(self._job, time.monotonic() + timeout)

    async def pause_async(self, timeout: float | None = None) -> bool:
        """``pause`` for async tasks: waits without blocking the event loop."""
        self._pause_intake()
        if timeout is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            if not self._slots.others_running(self._job):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _pause_intake(self) -> None:
        self._slots.pause_here(self._job.type)
        log.info("paused %s in this process", self._job.type)

    def resume(self) -> None:
        self._slots.resume_here(self._job.type)
        log.info("resumed %s in this process", self._job.type)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
