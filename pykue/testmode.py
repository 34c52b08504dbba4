"""Kue's test mode: ``save()`` records jobs in memory instead of writing to Redis."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from .interfaces import JobQueue

if TYPE_CHECKING:
    from .job import Job


class TestMode:
    __test__ = False  # not a pytest class

    def __init__(self, queue: JobQueue[Job]) -> None:
        self.queue = queue
        self.jobs: list[Job] = []
        self.active = False
        self.process = False
        self._ids = itertools.count(1)

    def enter(self, process: bool = False) -> None:
        """Record saved jobs; with ``process=True`` also save them for real (workers run them)."""
        self.active = True
        self.process = process

    def exit(self) -> None:
        self.active = False
        self.process = False

    def clear(self) -> None:
        self.jobs.clear()

    def record(self, job: Job) -> bool:
        """Keep the job; True when it must not reach Redis."""
        self.jobs.append(job)
        if self.process:
            return False
        job.id = str(next(self._ids))  # type: ignore[assignment]  # Kue's lodash.uniqueId(): a string counter
        job.test_only = True  # never in Redis: its own Redis operations refuse to run
        return True
