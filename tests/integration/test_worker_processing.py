"""The worker runs tasks in-process: order, concurrency, sync and async side by side, what a
task sees (bind, current_job, log, progress), what is stored for results and errors, stats,
metrics and tokens. Workers come from the ``workers`` factory (tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import pytest

import pykue
from pykue.worker import Worker
from tests.helpers import wait_for
from tests.workerapp.support import EventLog, runs


def job_hash(client, job_id):
    return client.hgetall(f"q:job:{job_id}")


def test_priority_order_then_fifo_at_concurrency_1(app_queue, client, workers):
    # Given echo jobs of mixed priorities queued before any worker runs
    echo = app_queue.tasks["echo"]
    priorities = ["low", "normal", "high", "normal", "critical", "high", "low", "medium", "normal"]
    jobs = [echo.with_options(priority=p).delay(n=i) for i, p in enumerate(priorities)]
    # When a burst worker drains them one at a time
    workers.burst()
    # Then they ran highest priority first, by id within one priority
    expected = sorted(jobs, key=lambda j: (j.priority(), j.id))
    assert [r["id"] for r in runs(client, "echo")] == [j.id for j in expected]
    assert all(job_hash(client, j.id)["state"] == "complete" for j in jobs)


def test_per_type_concurrency_limits_jobs_running_at_once(app_queue, client, workers):
    # Given 7 jobs of a task declared with concurrency=3 (each sleeps 0.3 s)
    slow = app_queue.tasks["slow"]
    ids = [slow.delay(seconds=0.3).id for _ in range(7)]
    # When a worker runs them
    workers.burst()
    # Then at most 3, and at some point exactly 3, ran at once
    assert client.get("wt:peak:slow") == "3"
    assert client.get("wt:running:slow") == "0"
    assert {j["state"] for j in map(lambda i: job_hash(client, i), ids)} == {"complete"}


@pytest.mark.parametrize("concurrency, jobs", [(2, 5), (8, 8)])
def test_concurrency_option_overrides_every_task(app_queue, client, workers, concurrency, jobs):
    # Given slow jobs of a task declared with concurrency=3
    slow = app_queue.tasks["slow"]
    for _ in range(jobs):
        slow.delay(seconds=0.4)
    # When a worker runs them with another concurrency, lower or higher
    workers.burst(concurrency=concurrency)
    # Then that many ran at once, no more
    assert client.get("wt:peak:slow") == str(concurrency)


def test_sync_and_async_tasks_run_side_by_side(app_queue, client, workers):
    # Given 2 def jobs (concurrency 2) and 4 async def jobs (concurrency 4), 0.4 s each
    sync_jobs = [app_queue.tasks["sleep_sync"].delay(seconds=0.4) for _ in range(2)]
    async_jobs = [app_queue.tasks["sleep_async"].delay(seconds=0.4) for _ in range(4)]
    # When one worker runs them
    workers.burst()
    # Then all six overlapped: every one started before any one finished
    recorded = runs(client, "sleep_sync") + runs(client, "sleep_async")
    assert len(recorded) == 6
    assert max(r["started"] for r in recorded) < min(r["at"] for r in recorded)
    assert [j.refresh().result for j in sync_jobs] == ["sync"] * 2
    assert [j.refresh().result for j in async_jobs] == ["async"] * 4


@pytest.mark.parametrize("task", ["bound", "bound_async"])
def test_bind_gets_the_job_and_current_job_works(app_queue, client, workers, task):
    workers.start()
    job = app_queue.tasks[task].delay(x=1)
    result = job.wait(10)
    assert result == {"id": job.id, "same": True, "data": {"x": 1}}


def test_current_job_inside_an_unbound_async_task(app_queue, workers):
    workers.start()
    job = app_queue.tasks["unbound_current"].delay()
    assert job.wait(10) == {"id": job.id}
    assert pykue.current_job() is None


def test_log_and_progress_from_a_task_are_stored_and_published(app_queue, client, workers):
    # Given a listener on every Kue event
    events = EventLog(app_queue)
    workers.start()
    # When a bound task logs and reports progress
    job = app_queue.tasks["bound"].delay()
    job.wait(10)
    # Then the log line and the progress data are stored, progress ends at 100 on completion
    assert app_queue.job_logs(job.id) == [f"sync bound of {job.id}"]
    stored = job_hash(client, job.id)
    assert stored["progress"] == "100"
    assert json.loads(stored["progress_data"]) == {"step": "half"}
    # And Kue's progress events went out in order, with the data
    wait_for(lambda: "complete" in events.of(job.id), 5, message="the complete event")
    assert events.args(job.id, "progress") == [(50, {"step": "half"}), (100, None)]
    assert events.of(job.id) == ["enqueue", "start", "progress", "progress", "complete"]


def test_wait_returns_the_result(app_queue, workers):
    workers.start()
    assert app_queue.tasks["echo"].delay(to="tj", n=[1, 2]).wait(10) == {"to": "tj", "n": [1, 2]}


def test_wait_gets_the_result_of_a_job_removed_on_completion(app_queue, client, workers):
    # Given a queue that listens to events, and a job saved with removeOnComplete
    app_queue.events.ensure_subscribed()
    workers.start()
    job = app_queue.tasks["echo"].with_options(remove_on_complete=True).delay(n=7)
    # When it is done and gone before anyone waits on it
    wait_for(lambda: not client.exists(f"q:job:{job.id}"), 5, message="the job to be removed")
    # Then wait() still returns its result, from the `complete` event the queue received
    assert job.wait(5) == {"n": 7}


def test_wait_on_a_job_removed_unseen_names_the_cause(app_queue, client, workers):
    # Given a job saved with removeOnComplete that ran while nothing in this process listened
    job = app_queue.tasks["echo"].with_options(remove_on_complete=True).delay(n=8)
    workers.burst()
    # Then wait() cannot know its result, and says why
    with pytest.raises(pykue.JobNotFoundError, match="removeOnComplete keeps its result only in the `complete` event"):
        job.wait(5)


def test_a_failing_task_stores_class_message_and_traceback(app_queue, client, workers):
    workers.start()
    job = app_queue.tasks["boom"].delay(message="message")
    # When the caller waits for it
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(10)
    # Then the error carries what is stored: "ValueError: message" then the Python traceback
    stored = job_hash(client, job.id)
    assert info.value.error == stored["error"]
    assert stored["error"].startswith("ValueError: message\nTraceback (most recent call last):\n")
    assert "raise ValueError(message)" in stored["error"]
    assert stored["state"] == "failed" and stored["attempts"] == "1"
    # And the log holds Kue's one-line summary
    assert app_queue.job_logs(job.id) == ["ValueError: message"]


def test_a_result_json_cannot_hold_is_stored_as_kue_does(app_queue, client, workers):
    workers.start()
    job = app_queue.tasks["unserialisable"].delay()
    job.wait(10)
    stored = job_hash(client, job.id)
    assert stored["state"] == "complete"
    assert stored["result"] == '{"error":true,"message":"Invalid JSON Result: \\"{1, 2}\\""}'


def test_work_time_grows_by_each_duration_and_minute_metrics_count(app_queue, client, workers):
    # Given two jobs that complete and one that fails
    done = [app_queue.tasks["slow"].delay(seconds=0.05), app_queue.tasks["echo"].delay()]
    failed = app_queue.tasks["boom"].delay()
    workers.burst()
    hashes = [job_hash(client, j.id) for j in done]
    # Then stats:work-time is the sum of the completed jobs' durations
    assert int(client.get("q:stats:work-time")) == sum(int(h["duration"]) for h in hashes)
    assert int(hashes[0]["duration"]) >= 50
    # And the per-minute metric keys count each outcome in its minute
    minutes = {}
    for h in hashes:
        minute = int(h["updated_at"]) // 60000
        minutes[minute] = minutes.get(minute, 0) + 1
    for minute, count in minutes.items():
        assert client.get(f"q:pykue:metrics:complete:{minute}") == str(count)
        assert 0 < client.ttl(f"q:pykue:metrics:complete:{minute}") <= 7200
    failed_minute = int(job_hash(client, failed.id)["failed_at"]) // 60000
    assert client.get(f"q:pykue:metrics:failed:{failed_minute}") == "1"
    assert sum(app_queue.metrics(5)["complete"]) == 2


def test_an_idle_worker_leaves_the_token_list_balanced(app_queue, client, workers):
    # Given 5 queued jobs: one wake-up token each
    for i in range(5):
        app_queue.tasks["echo"].delay(n=i)
    assert client.llen("q:echo:jobs") == 5
    # When a worker runs them and then idles through several fetch timeouts and upkeep ticks
    worker = workers.start(block_timeout=0.1)
    wait_for(lambda: app_queue.complete_count("echo") == 5, 10, message="5 completions")
    ticks = worker.upkeep.ticks
    wait_for(lambda: worker.upkeep.ticks >= ticks + 10, 5, message="10 more upkeep ticks")
    # Then no token is left over or missing, and the next job is still picked up
    assert client.llen("q:echo:jobs") == 0
    app_queue.tasks["echo"].delay(n=99).wait(5)
    assert client.llen("q:echo:jobs") == 0
    # And stopping leaves no wake-up list or lease behind
    workers.stop(worker)
    assert client.llen("q:echo:jobs") == 0
    assert not [k for k in client.scan_iter("q:pykue:wake:*")] + [k for k in client.scan_iter("q:pykue:worker:*")]


def test_a_job_of_a_type_without_a_task_is_never_taken(app_queue, client, workers):
    # Given a job no task handles, and one of a task this worker is not told to run
    orphan = app_queue.create("nobody", {"n": 1}).save()
    slow = app_queue.tasks["slow"].delay(seconds=0)
    echo = app_queue.tasks["echo"].delay()
    # When a worker for echo only drains its queue
    workers.burst(types=["echo"])
    # Then only the echo job ran; the others wait, their tokens untouched
    assert job_hash(client, echo.id)["state"] == "complete"
    assert job_hash(client, orphan.id)["state"] == "inactive"
    assert job_hash(client, slow.id)["state"] == "inactive"
    assert client.llen("q:nobody:jobs") == 1 and client.llen("q:slow:jobs") == 1
    assert [r["id"] for r in runs(client)] == [echo.id]


def test_a_job_whose_data_is_not_json_fails_clearly_and_the_worker_goes_on(app_queue, client, workers):
    # Given a job whose data field was written by hand and is not JSON, then a good job
    bad = app_queue.tasks["echo"].delay(n=1)
    client.hset(f"q:job:{bad.id}", "data", "{not json")
    good = app_queue.tasks["echo"].delay(n=2)
    # When a worker runs both
    workers.burst()
    # Then the bad one failed with a clear error, and the next one completed
    stored = job_hash(client, bad.id)
    assert stored["state"] == "failed"
    assert stored["error"].startswith("InvalidJobData: job data is not valid JSON")
    assert job_hash(client, good.id)["state"] == "complete"
    assert [r["id"] for r in runs(client)] == [good.id]


def test_burst_worker_returns_when_the_queue_is_drained(app_queue, client, workers):
    for i in range(3):
        app_queue.tasks["echo"].delay(n=i)
    worker = workers.burst()
    assert worker.processed == 3 and worker.running == {}
    assert app_queue.counts()["inactive"] == 0
    assert worker not in app_queue.local_workers


def test_a_paused_type_keeps_its_jobs_and_their_tokens(app_queue, client, workers):
    # Given an idle worker waiting on wake-up tokens with a long block timeout
    worker = workers.start(block_timeout=5)
    app_queue.tasks["echo"].delay(n=0).wait(5)
    # When echo is paused and the worker has seen it, then an echo job arrives
    app_queue.pause("echo")
    wait_for(lambda: "echo" in worker.paused, 2, message="the worker to see the pause")
    job = app_queue.tasks["echo"].delay(n=1)
    app_queue.tasks["slow"].delay(seconds=0).wait(5)  # other types still run meanwhile
    # Then the job waits, and so does its token: none was taken while paused
    assert job.refresh().state == "inactive"
    assert client.llen("q:echo:jobs") == 1
    # When resumed, the job runs and the token is consumed
    app_queue.resume("echo")
    assert job.wait(5) == {"n": 1}
    assert client.llen("q:echo:jobs") == 0


def test_a_multi_line_error_message_logs_only_its_first_line(app_queue, client, workers):
    events = EventLog(app_queue)
    workers.start()
    job = app_queue.tasks["boom"].delay(message="first line\nsecond line")
    with pytest.raises(pykue.JobFailedError):
        job.wait(10)
    # Kue's log summary is the first line of the stack; the event message is the whole message
    assert app_queue.job_logs(job.id) == ["ValueError: first line"]
    assert job.refresh().error.startswith("ValueError: first line\nsecond line\nTraceback")
    wait_for(lambda: events.args(job.id, "failed"), 5, message="the failed event")
    assert events.args(job.id, "failed") == [("first line\nsecond line", None)]


def test_queue_shutdown_stops_its_workers_and_cuts_off_long_jobs(app_queue, client, workers):
    # Given a running worker with a short job and one that would take 3 s (2 attempts; its
    # thread sleeps on after the shutdown, and the test waits for it at its end)
    worker = workers.start()
    quick = app_queue.tasks["long"].delay(seconds=0.2)
    stuck = app_queue.tasks["long2"].delay(seconds=3)
    wait_for(lambda: len(runs(client, "long_start")) == 2, 5, message="both jobs to start")
    # When the queue shuts down with a 0.5 s timeout
    began = time.monotonic()
    app_queue.shutdown(0.5)
    # Then it returned once its worker stopped: the short job finished, the long one was cut off
    assert time.monotonic() - began < 3 and worker not in app_queue.local_workers
    assert job_hash(client, quick.id)["state"] == "complete"
    stored = job_hash(client, stuck.id)
    assert (stored["state"], stored["error"], stored["attempts"]) == ("inactive", "Shutdown", "1")
    assert client.llen("q:long2:jobs") == 1


@pytest.mark.parametrize("task", ["unprintable", "unprintable_async"])
def test_a_result_that_cannot_even_be_printed_fails_the_job(app_queue, client, workers, task):
    workers.start()
    job = app_queue.tasks[task].delay()
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(5)
    assert info.value.error.startswith("RuntimeError: cannot render this result\n")
    assert app_queue.active_count() == 0


@pytest.mark.parametrize("task", ["unprintable_error", "unprintable_error_async"])
def test_an_error_whose_message_cannot_be_read_fails_the_job(app_queue, client, workers, task):
    # Given a task that raises an exception whose str() itself raises
    worker = workers.start()
    job = app_queue.tasks[task].delay()
    # Then the job fails with the exception's class and traceback, and its slot is free again
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(5)
    assert info.value.error.startswith("UnprintableError (its message could not be read: AttributeError)\n")
    assert "raise UnprintableError()" in info.value.error
    wait_for(lambda: worker.busy[task] == 0, 5, message="its slot to be freed")
    assert app_queue.tasks["echo"].delay(n=1).wait(5) == {"n": 1}


def test_a_job_whose_type_was_changed_by_hand_fails_and_the_worker_goes_on(app_queue, client, workers):
    # Given an echo job whose hash now names a type no task handles, then a good job
    bad = app_queue.tasks["echo"].delay(n=1)
    client.hset(f"q:job:{bad.id}", "type", "renamed_by_hand")
    good = app_queue.tasks["echo"].delay(n=2)
    # When a worker drains the echo queue
    workers.burst()
    # Then the odd job failed with a clear error, and the worker went on to the next
    stored = job_hash(client, bad.id)
    assert (stored["state"], stored["error"]) == ("failed", "UnknownType: no task for job type 'renamed_by_hand'")
    assert job_hash(client, good.id)["state"] == "complete"


def test_lone_surrogates_in_an_error_or_a_result_are_escaped(app_queue, client, workers):
    # Given tasks whose error message and result hold a lone surrogate (an undecodable file name)
    failing = app_queue.tasks["surrogates"].delay(fail=True)
    returning = app_queue.tasks["surrogates"].delay(fail=False)
    good = app_queue.tasks["echo"].delay(n=1)
    # When a worker runs them (Redis cannot take such text as UTF-8)
    workers.burst()
    # Then the error is stored escaped, the result as a JSON \u escape, and the worker went on
    stored = job_hash(client, failing.id)
    assert stored["state"] == "failed"
    assert stored["error"].startswith("FileNotFoundError: no such file: report-\\udcff.txt\n")
    assert job_hash(client, returning.id)["result"] == '{"file":"report-\\udcff.txt"}'
    assert returning.refresh().result == {"file": "report-\udcff.txt"}
    assert job_hash(client, good.id)["state"] == "complete"


def test_pause_with_a_timeout_in_async_tasks_waits_without_blocking_the_loop(app_queue, workers):
    # Given an async type of concurrency 2: one job runs 0.5 s, the other pauses the type and
    # waits for it; a blocking pause(timeout) there is refused, as it would stall the loop
    outcome = {}

    @app_queue.task("paws", concurrency=2, bind=True)
    async def paws(job, role):
        if role == "slow":
            await asyncio.sleep(0.5)
            outcome["slow done"] = time.monotonic()
            return "slow"
        with pytest.raises(pykue.PykueError, match="pause_async"):
            job.ctx.pause(timeout=3)
        began = time.monotonic()
        outcome["others done"] = await job.ctx.pause_async(timeout=3)
        outcome["waited"] = time.monotonic() - began
        job.ctx.resume()
        return "pauser"

    workers.start()
    slow = paws.delay(role="slow")
    wait_for(lambda: slow.refresh().state == "active", 5, message="the slow job to start")
    pauser = paws.delay(role="pauser")
    # Then the wait ends when the slow job does, not at the timeout
    assert (slow.wait(5), pauser.wait(5)) == ("slow", "pauser")
    assert outcome["others done"] is True and outcome["waited"] < 2


def test_an_async_job_cut_off_at_shutdown_logs_no_lost_claim_warning(app_queue, client, workers, caplog):
    # Given an async job that would run 30 s
    worker = workers.start()
    job = app_queue.tasks["sleep_async"].delay(seconds=30)
    wait_for(lambda: worker.running, 5, message="the job to start in the worker")
    # When the queue shuts down: the job fails with Shutdown, then its cancelled task reports too
    with caplog.at_level(logging.INFO, logger="pykue.worker"):
        app_queue.shutdown(0.3)
    # Then that second outcome is no warning about a lost claim (nothing was lost)
    assert job.refresh().error == "Shutdown"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "claim was lost" in r.getMessage()]


def test_a_redis_outage_is_logged_once_per_error_not_twice(caplog):
    # Given a worker whose Redis does not answer (nothing listens on port 1)
    queue = pykue.Queue("redis://127.0.0.1:1/0", prefix="q")
    queue.task("echo")(lambda n: n)
    worker = Worker(queue, promote_interval=0.05)
    with caplog.at_level(logging.WARNING):
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        wait_for(
            lambda: sum("redis error while fetching jobs" in r.getMessage() for r in caplog.records) >= 3,
            10,
            message="three failed fetches",
        )
        worker.stop(0)
        thread.join(10)
    # Then each failed fetch is one warning: the queue's error event adds no second line for it
    # (only the start-up and clean-up calls, which log nothing of their own, report through it)
    echoes = [r for r in caplog.records if r.getMessage().startswith("pykue error:")]
    assert len(echoes) <= 2, [r.getMessage() for r in echoes]
