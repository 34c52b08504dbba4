"""Cancellation: a queued, delayed or running job fails for good with ``Cancelled: <reason>``,
never retried; a running one is stopped on the worker process that runs it, within about a
second, and its slot is freed (the next job of its type runs); a late result is discarded.
Real ``pykue worker`` processes (tests/workerapp/cancelapp.py) on a private Redis."""

from __future__ import annotations

import json
import time

import pytest

from pykue import CancelResult, InvalidJobError, JobNotFoundError, Queue
from tests.helpers import wait_for

APP = "tests.workerapp.cancelapp"


@pytest.fixture
def events(client):
    """The messages published on Kue's events channel from now on."""
    pubsub = client.pubsub()
    pubsub.subscribe("q:events")
    pubsub.get_message(timeout=1)
    seen: list[dict] = []

    def read() -> list[dict]:
        while (message := pubsub.get_message(timeout=0.05)) is not None:
            if message["type"] == "message":
                seen.append(json.loads(message["data"]))
        return seen

    yield read
    pubsub.close()


def marks(client, job_id: int) -> dict[str, float]:
    return {k: float(v) for k, v in client.hgetall(f"wt:cancel:{job_id}").items()}


def test_a_queued_job_fails_cancelled_and_never_runs(queue: Queue, client, events, spawn_worker) -> None:
    # Given a queued job with attempts to spare
    job = queue.create("step", {"steps": 1}).attempts(3).save()
    # When it is cancelled
    assert queue.cancel(job.id, "not wanted") is CancelResult.CANCELLED
    # Then it failed for good with that error, no attempt spent, out of the queue
    job.refresh()
    assert (job.state, job.error, job.attempts().made) == ("failed", "Cancelled: not wanted", 0)
    assert job.cancelled
    assert queue.count("inactive") == 0 and client.llen("q:step:jobs") == 1  # a token no job answers
    assert queue.job_logs(job.id) == ["Cancelled: not wanted"]
    # And Kue's `failed` event then pykue's `cancelled` went out
    wait_for(lambda: len(events()) >= 3, 5, message="the events")
    assert [(e["id"], e["args"]) for e in events()] == [
        (job.id, ["enqueue", "step"]),
        (job.id, ["failed", "Cancelled: not wanted", None]),
        (job.id, ["cancelled", "Cancelled: not wanted"]),
    ]
    # And a worker started afterwards never runs it, but runs the next job
    spawn_worker("--types", "step", app=APP)
    after = queue.create("step", {"steps": 1}).save()
    assert after.wait(timeout=20) == "all steps done"
    assert marks(client, job.id) == {}
    assert job.refresh().state == "failed"


def test_a_delayed_job_fails_cancelled_and_is_never_promoted(queue: Queue, client) -> None:
    heard: list[tuple] = []
    queue.on("job cancelled", lambda *args: heard.append(args))
    queue.events.ensure_subscribed()
    job = queue.create("step", {}).delay(60_000).save()
    assert job.cancel("changed my mind") is CancelResult.CANCELLED
    wait_for(lambda: heard, 5, message="the cancelled event")
    assert heard == [(job.id, "Cancelled: changed my mind")]
    job.refresh()
    assert (job.state, job.error) == ("failed", "Cancelled: changed my mind")
    assert queue.count("delayed") == 0 and queue.count("failed", "step") == 1


def test_cancelling_a_finished_or_missing_job(queue: Queue) -> None:
    job = queue.create("step", {}).save()
    job.set_state("complete")
    assert queue.cancel(job.id) is CancelResult.FINISHED
    assert job.refresh().state == "complete" and job.error is None
    with pytest.raises(JobNotFoundError):
        queue.cancel(999_999)
    with pytest.raises(InvalidJobError):
        queue.cancel("x")
    with pytest.raises(InvalidJobError):
        queue.cancel(job.id, "\udc80")


def _started(client, job) -> bool:
    return "started" in marks(client, job.id)


@pytest.mark.parametrize("job_type", ["wait", "step"])
def test_a_running_job_is_stopped_within_about_a_second(queue: Queue, client, spawn_worker, job_type) -> None:
    # Given a worker process running a long job (an async one, or a def one reporting progress),
    # its type's only slot taken
    spawn_worker("--types", job_type, "--concurrency", "1", app=APP)
    job = queue.create(job_type, {}).attempts(3).save()
    wait_for(lambda: _started(client, job), 20, message="the job to start")
    # When it is cancelled
    cancelled_at = time.time()
    assert queue.cancel(job.id, "stop it") is CancelResult.STOPPING
    # Then it failed for good at once, with the attempt it was making counted and no retry
    job.refresh()
    assert (job.state, job.error, job.attempts().made) == ("failed", "Cancelled: stop it", 1)
    # And the task itself was stopped within about a second (the async one cancelled, the def
    # one raised JobCancelled at its next progress)
    wait_for(lambda: "stopped" in marks(client, job.id), 10, message="the task to stop")
    assert marks(client, job.id)["stopped"] - cancelled_at < 2.5
    # And its slot is free: the next job of the type runs
    after = queue.create(job_type, {"seconds": 0.01, **({"steps": 1} if job_type == "step" else {})}).save()
    assert after.wait(timeout=20) in ("waited", "all steps done")
    # And the cancelled job was never retried
    assert job.refresh().state == "failed" and job.attempts().made == 1
    assert "finished" not in marks(client, job.id)


def test_a_result_returned_after_cancelling_is_discarded(queue: Queue, client, spawn_worker) -> None:
    # Given a def task that never checks whether it was cancelled
    worker = spawn_worker("--types", "deaf", "--concurrency", "1", "--loglevel", "debug", app=APP)
    job = queue.create("deaf", {"seconds": 4.0}).attempts(3).save()
    wait_for(lambda: _started(client, job), 20, message="the job to start")
    # When it is cancelled while it runs, and then returns its result
    assert job.cancel() is CancelResult.STOPPING
    after = queue.create("deaf", {"seconds": 0.01}).save()
    assert after.wait(timeout=20) == "late result"  # its slot was freed before it returned
    wait_for(lambda: "finished" in marks(client, job.id), 10, message="the task to return")
    discarded = f"job {job.id} deaf: its cancelled task's outcome discarded"
    wait_for(lambda: discarded in worker.output(), 10, message="the late result to be reported")
    # Then the job stays failed, cancelled, with no result and no retry
    job.refresh()
    assert (job.state, job.error, job.result) == ("failed", "Cancelled: by request", None)
    assert job.attempts().made == 1
    assert "stopping it" in worker.output()
