"""Waiting for Redis when a worker starts before it (``pykue worker --wait-for-redis SECONDS``).

In docker compose, under systemd or in a Kubernetes pod, the worker often starts before
Redis accepts connections. Exiting at once turns that race into a restart loop (or a dead
worker where nothing restarts it), so the worker pings with exponential backoff instead,
says so in one log line, and starts as soon as Redis answers. Errors that waiting cannot
cure, a wrong password or a user without the rights, end the wait at once.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from .connection import describe

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from .queue import Queue

log = logging.getLogger("pykue.worker")

#: The default of ``--wait-for-redis``: long enough for Redis to start, or load a modest dataset.
DEFAULT_WAIT = 60.0
#: Backoff between pings: 0.1 s, 0.2 s, 0.4 s... up to this many seconds.
MAX_PAUSE = 2.0
_NOT_CURED_BY_WAITING = (redis.AuthenticationError, redis.exceptions.AuthorizationError)


def transient(error: BaseException) -> bool:
    """Redis down, starting, still loading its dataset, or out of connections: worth waiting for."""
    return isinstance(error, (redis.ConnectionError, redis.TimeoutError)) and not isinstance(
        error, _NOT_CURED_BY_WAITING
    )


def wait_for_redis(queues: list[Queue], seconds: float) -> None:
    """Return once every queue's Redis answers a PING; raise the last error after ``seconds``
    in all (``0``: one PING each, no waiting)."""
    deadline = time.monotonic() + seconds
    for queue in queues:
        _wait_for(queue, max(0.0, deadline - time.monotonic()))


def _wait_for(queue: Queue, seconds: float) -> None:
    if seconds <= 0:
        queue.ping()
        return

    def announce(state: RetryCallState) -> None:
        if state.attempt_number == 1 and state.outcome is not None:
            log.warning(
                "Redis at %s is not reachable yet (%s): waiting up to %g s for it",
                describe(queue.client),
                first_line(state.outcome.exception()),
                seconds,
            )

    retrying = Retrying(
        stop=stop_after_delay(seconds),
        wait=wait_exponential(multiplier=0.1, max=MAX_PAUSE),
        retry=retry_if_exception(transient),
        before_sleep=announce,
        reraise=True,
    )
    retrying(queue.ping)


def first_line(error: BaseException | None) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
