"""How the worker's loops ride out a Redis outage: log, report, back off, try again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..queue import Queue

log = logging.getLogger("pykue.worker")


def backoff_seconds(attempt: int) -> float:
    return min(0.1 * 2.0 ** min(attempt, 6), 5.0)


def pause_after_error(
    queue: Queue, doing: str, error: BaseException, attempt: int, sleep: Callable[[float], Any]
) -> None:
    """Log and report a Redis error, then back off (longer with each attempt) with ``sleep``."""
    delay = backoff_seconds(attempt)
    log.warning("redis error while %s (%s); retrying in %.1fs", doing, error, delay)
    queue.report_error(error, logged=True)
    sleep(delay)
