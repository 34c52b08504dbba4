"""``current_job()``: the job a task is running, from anywhere inside that task."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import Job

_current: contextvars.ContextVar[Job | None] = contextvars.ContextVar("pykue_current_job", default=None)


def current_job() -> Job | None:
    return _current.get()


def set_current_job(job: Job | None) -> contextvars.Token[Job | None]:
    return _current.set(job)


def reset_current_job(token: contextvars.Token[Job | None]) -> None:
    _current.reset(token)
