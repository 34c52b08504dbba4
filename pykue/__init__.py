"""pykue: a Kue-compatible Redis priority job queue with a Celery-style task API."""

from __future__ import annotations

from .context import current_job
from .exceptions import (
    ConfigurationError,
    InvalidJobError,
    InvalidStateError,
    JobFailedError,
    JobNotFoundError,
    PykueError,
    TaskNotFoundError,
)
from .job import Attempts, Job
from .queue import Queue
from .states import PRIORITIES, JobState
from .task import Task

__version__ = "0.1.0"

__all__ = [
    "Attempts",
    "ConfigurationError",
    "InvalidJobError",
    "InvalidStateError",
    "Job",
    "JobFailedError",
    "JobNotFoundError",
    "JobState",
    "PRIORITIES",
    "PykueError",
    "Queue",
    "Task",
    "TaskNotFoundError",
    "__version__",
    "current_job",
]
