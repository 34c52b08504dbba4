"""pykue: a Kue-compatible Redis priority job queue with a Celery-style task API."""

from __future__ import annotations

from .cancel import CancelResult
from .canvas import Signature, chain, chord, group
from .context import current_job
from .draft import JobDraft
from .exceptions import (
    ConfigurationError,
    DurabilityError,
    InvalidJobError,
    InvalidStateError,
    JobCancelled,
    JobFailedError,
    JobNotFoundError,
    PykueError,
    TaskNotFoundError,
)
from .job import Job
from .job_hash import Attempts
from .queue import Queue
from .states import PRIORITIES, JobState
from .task import AsyncTask, Task
from .workflow import WorkflowHandle

__version__ = "0.1.0"

__all__ = [
    "AsyncTask",
    "Attempts",
    "CancelResult",
    "ConfigurationError",
    "DurabilityError",
    "InvalidJobError",
    "InvalidStateError",
    "Job",
    "JobCancelled",
    "JobDraft",
    "JobFailedError",
    "JobNotFoundError",
    "JobState",
    "PRIORITIES",
    "PykueError",
    "Queue",
    "Signature",
    "Task",
    "TaskNotFoundError",
    "WorkflowHandle",
    "__version__",
    "chain",
    "chord",
    "current_job",
    "group",
]
