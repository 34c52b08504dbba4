"""What jobs and tasks use of the queue they belong to, as small Protocols.

``Queue`` builds jobs, tasks and test mode, so queue.py imports their modules; they type
their queue with these interfaces instead of ``Queue``, which keeps the imports one-way
(queue.py above, job.py, task.py and testmode.py below). A ``Queue`` satisfies both
structurally; ``job.queue`` and ``task.queue`` are still the Queue itself at runtime.

The job type is a parameter (``JobQueue[Job]``) because job.py, which defines it, sits
above this module.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from .events import EventHub
from .store import Store

JobT = TypeVar("JobT")


class JobQueue(Protocol[JobT]):
    """A job's queue: where the job is stored, whose events it hears, and what saves it
    (saving goes through the queue for test mode and for batching)."""

    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventHub: ...

    @property
    def job_events(self) -> bool: ...

    @property
    def search_enabled(self) -> bool: ...

    def index_words(self, data: Any, search_keys: list[str] | None) -> list[str]: ...

    def job_logs(self, job_id: int | str) -> list[str]: ...

    def save_jobs(self, jobs: list[JobT]) -> list[JobT]: ...


class TaskQueue(Protocol[JobT]):
    """A task's queue: it makes the task's jobs and saves them, one or many at a time."""

    def create(self, type: str, data: Any = None) -> JobT: ...

    def save_jobs(self, jobs: list[JobT]) -> list[JobT]: ...
