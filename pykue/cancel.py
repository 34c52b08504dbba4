"""Cancelling jobs (``job.cancel``, ``queue.cancel``, ``pykue cancel``, the dashboard).

One script, cancel_job.lua, decides in Redis: a queued or delayed job fails for good with
``Cancelled: <reason>``; a running one too, and it loses its claim, so that its worker's
late result changes nothing; the worker holding it finds it in its cancel set at its next
upkeep tick and stops the task (worker/upkeep.py).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

from .exceptions import InvalidJobError, JobNotFoundError
from .fields import encodes_utf8
from .job_hash import dumps, now_ms

if TYPE_CHECKING:
    from .store import Store

CANCELLED_PREFIX = "Cancelled"
DEFAULT_REASON = "by request"


class CancelResult(IntEnum):
    """What cancel_job.lua found (its replies)."""

    CANCELLED = 1  # it was queued or delayed: failed now
    FINISHED = 2  # complete or failed already: nothing changed
    STOPPING = 3  # it was running: failed now, its worker stops it within about a second


def cancel_error(reason: str) -> str:
    """The job's stored error: ``Cancelled: <reason>``."""
    if not isinstance(reason, str) or not encodes_utf8(reason):
        raise InvalidJobError("reason", reason, "expected text (valid UTF-8)")
    return f"{CANCELLED_PREFIX}: {reason.strip() or DEFAULT_REASON}"


def cancel_job(store: Store, job_id: int, reason: str = "") -> CancelResult:
    """Cancel one job (``JobNotFoundError`` when there is none)."""
    error = cancel_error(reason)
    reply = store.cancel_job(job_id, now_ms(), error, dumps(error))
    if reply < 0:
        raise JobNotFoundError(job_id)
    return CancelResult(reply)
