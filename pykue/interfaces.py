"""What jobs, drafts and tasks use of the queue they belong to, as small Protocols.

``Queue`` builds jobs, drafts, tasks and test mode, so queue.py imports their modules; they
type their queue with these interfaces instead of ``Queue``, which keeps the imports one-way
(queue.py above; job.py, draft.py, task.py and testmode.py below). A ``Queue`` satisfies
them structurally; ``job.queue`` and ``task.queue`` are still the Queue itself at runtime.

The draft and job types are parameters (``DraftQueue[JobDraft, Job]``) because the modules
that define them sit above this one.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

import redis

from .events import EventHub
from .keys import Keys
from .scripts import Scripts
from .store import Store

DraftT = TypeVar("DraftT")
JobT = TypeVar("JobT")


class AsyncSide(Protocol):
    """A queue's asyncio producer (pykue/aio), as a job sees it."""

    async def await_result(self, job: Any, timeout: float | None) -> Any: ...


class JobQueue(Protocol):
    """A stored job's queue: where the job is stored and whose events it hears."""

    @property
    def aio(self) -> AsyncSide: ...

    @property
    def store(self) -> Store: ...

    @property
    def events(self) -> EventHub: ...

    @property
    def job_events(self) -> bool: ...

    def job_logs(self, job_id: int | str) -> list[str]: ...


class DraftQueue(JobQueue, Protocol[DraftT, JobT]):
    """A draft's queue: what indexes its data and saves it (saving goes through the queue
    for test mode and for batching)."""

    @property
    def search_enabled(self) -> bool: ...

    def index_words(self, data: Any, search_keys: list[str] | None) -> list[str]: ...

    def save_jobs(self, jobs: list[DraftT]) -> list[JobT]: ...


class TaskQueue(Protocol[DraftT, JobT]):
    """A task's queue: it makes the task's drafts and saves them, one or many at a time."""

    def create(self, type: str, data: Any = None) -> DraftT: ...

    def save_jobs(self, jobs: list[DraftT]) -> list[JobT]: ...

    def asave_jobs(self, jobs: list[DraftT]) -> Awaitable[list[JobT]]: ...


class BoundStore(Protocol):
    """A store bound to one queue's client, keys and scripts: ``Store`` or a worker's
    ``WorkerStore`` (what limits.py and schedules.py read and write through)."""

    @property
    def client(self) -> redis.Redis: ...

    @property
    def keys(self) -> Keys: ...

    @property
    def scripts(self) -> Scripts: ...
