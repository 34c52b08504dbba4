"""A job's backoff governs that job alone (issue 14, item 2).

A Python callable cannot be stored in Redis, so it belongs to a task (``@queue.task(backoff=fn)``),
never to one job: ``Job.backoff(fn)`` is refused, and saving a job changes no state of the
process that other jobs of its type would see.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import redis

from pykue import InvalidJobError, Queue, Task
from tests.redis_probe import snapshot

if TYPE_CHECKING:
    from tests.integration.conftest import InProcessWorkers

FIXED = {"type": "fixed", "delay": 1000}


def fails_once(queue: Queue, job_type: str, backoff: Any = None) -> tuple[Task[str], list[float]]:
    """A task of ``job_type`` whose first run fails; returns it and the times it ran at."""
    started: list[float] = []
    lock = threading.Lock()

    def run() -> str:
        with lock:
            started.append(time.monotonic())
            if len(started) == 1:
                raise RuntimeError("first attempt fails")
        return "ok"

    return queue.task(job_type, attempts=2, backoff=backoff)(run), started


def retry_gap_ms(started: list[float]) -> float:
    assert len(started) == 2, started
    return (started[1] - started[0]) * 1000


def test_a_callable_on_one_job_is_refused_and_saves_nothing(app_queue: Queue, client: redis.Redis) -> None:
    app_queue.create("seed").save()
    before = snapshot(client)

    def slow(attempts: int, delay: int | None) -> int:
        return 999_000

    with pytest.raises(InvalidJobError) as info:
        app_queue.create("email", {"to": "a"}).attempts(2).backoff(slow).save()

    message = str(info.value)
    assert info.value.field == "backoff" and "slow" in message
    assert "declare it on the task: @queue.task('email', backoff=fn)" in message
    assert snapshot(client) == before


def test_a_fixed_backoff_job_is_retried_after_its_own_delay(
    app_queue: Queue, client: redis.Redis, workers: InProcessWorkers
) -> None:
    # Given a process that has a task with a callable backoff (retry_callable, of the test app),
    # and in which someone tried to give one job of type "fixed_once" a 999 s callable backoff
    _, started = fails_once(app_queue, "fixed_once")
    with pytest.raises(InvalidJobError):
        app_queue.create("fixed_once").attempts(2).backoff(lambda attempts, delay: 999_000).save()
    # When a job of that type saved with {"type": "fixed", "delay": 1000} fails once
    job = app_queue.create("fixed_once").attempts(2).backoff(FIXED).save()
    workers.start()
    assert job.wait(10) == "ok"
    # Then it was retried about 1 s later, by its own backoff
    assert 1000 - 15 <= retry_gap_ms(started) <= 1000 + 400
    assert client.hget(f"q:job:{job.id}", "backoff") == '{"type":"fixed","delay":1000}'


def test_a_tasks_callable_serves_its_jobs_without_a_backoff_of_their_own(
    app_queue: Queue, workers: InProcessWorkers
) -> None:
    task, started = fails_once(app_queue, "callable_once", backoff=lambda attempts, delay: 300)
    job = task.delay()
    workers.start()
    assert job.wait(10) == "ok"
    assert 300 - 15 <= retry_gap_ms(started) <= 300 + 400


def test_a_jobs_stored_backoff_wins_over_its_tasks_callable(app_queue: Queue, workers: InProcessWorkers) -> None:
    task, started = fails_once(app_queue, "both_once", backoff=lambda attempts, delay: 2_000)
    job = task.build().backoff({"type": "fixed", "delay": 300}).save()
    workers.start()
    assert job.wait(10) == "ok"
    assert 300 - 15 <= retry_gap_ms(started) <= 300 + 400
