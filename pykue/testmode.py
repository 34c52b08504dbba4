"""Kue's test mode: ``save()`` records jobs in memory instead of writing to Redis."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from .interfaces import JobQueue

if TYPE_CHECKING:
    from .draft import JobDraft
    from .job import Job


class TestMode:
    __test__ = False  # not a pytest class

    def __init__(self, queue: JobQueue) -> None:
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

    def record(self, drafts: list[JobDraft]) -> list[Job]:
        """Keep the drafts as jobs that never reach Redis, with Kue's ids (lodash.uniqueId():
        a string counter)."""
        jobs = [draft.recorded(str(next(self._ids))) for draft in drafts]
        self.jobs.extend(jobs)
        return jobs
