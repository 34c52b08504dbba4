"""Retries with every kind of backoff, delayed promotion and TTL expiry, timed with tolerances.

Workers run on a thread with ``promote_interval=0.05``; a due job waits at most one interval
for its promotion, so gaps are checked within [expected - 15 ms, expected + 200 ms].
"""

from __future__ import annotations

import asyncio
import logging

import pytest

import pykue
from pykue.job import now_ms
from tests.helpers import claim_as, wait_for
from tests.workerapp.support import EventLog, runs

EARLY_MS, LATE_MS = 15, 200


def gaps_ms(entries):
    return [round((b["at"] - a["at"]) * 1000) for a, b in zip(entries, entries[1:])]


def assert_close(actual, expected):
    assert len(actual) == len(expected), (actual, expected)
    for got, want in zip(actual, expected):
        assert want - EARLY_MS <= got <= want + LATE_MS, f"gaps {actual} ms, expected about {expected} ms"


@pytest.mark.parametrize(
    "job_type, expected_gaps",
    [
        ("retry_fixed", [200, 200]),  # {"type": "fixed", "delay": 200}
        ("retry_exp", [100, 300, 300]),  # exponential 200, maxDelay 400: 100, 300, min(700, 300)
        ("retry_callable", [100, 200]),  # lambda attempts, delay: 100 * attempts
        ("retry_tenacity", [100, 200, 300]),  # wait_exponential(multiplier=0.1, max=0.3)
        ("retry_none", [0, 0]),  # no backoff: retried at once
    ],
)
def test_retry_gaps_follow_the_backoff(app_queue, client, workers, job_type, expected_gaps):
    # Given a task with 4 attempts whose first len(expected_gaps) runs fail
    workers.start()
    job = app_queue.tasks[job_type].delay(fail_times=len(expected_gaps))
    # When it is retried until it succeeds
    assert job.wait(10) == {"attempt": len(expected_gaps) + 1}
    # Then the runs are spaced by the backoff delays
    attempts = [r for r in runs(client, "flaky") if r["id"] == job.id]
    assert [r["attempt"] for r in attempts] == list(range(1, len(expected_gaps) + 2))
    assert_close(gaps_ms(attempts), expected_gaps)
    assert job.refresh().attempts() == (len(expected_gaps) + 1, 4 - len(expected_gaps) - 1, 4)


def test_a_backoff_callable_gets_the_current_delay_and_is_not_asked_after_the_last_attempt(app_queue, workers):
    asked = []

    def backoff(attempts, delay_ms):
        asked.append((attempts, delay_ms))
        return 50 * attempts

    @app_queue.task("always_fails", attempts=3, backoff=backoff)
    def always_fails():
        raise RuntimeError("no")

    workers.start()
    with pytest.raises(pykue.JobFailedError):
        always_fails.delay().wait(10)
    assert asked == [(1, None), (2, 50)]


def test_backoff_true_reuses_the_jobs_delay(app_queue, client, workers):
    # Given a job delayed 200 ms whose task's backoff is True (Kue: retry after the job's delay)
    workers.start()
    job = app_queue.tasks["retry_true"].with_options(delay=200).delay(fail_times=2)
    assert job.wait(10) == {"attempt": 3}
    attempts = [r for r in runs(client, "flaky") if r["id"] == job.id]
    first_ms = attempts[0]["at"] * 1000 - job.created_at
    assert 200 - EARLY_MS <= first_ms <= 200 + LATE_MS
    assert_close(gaps_ms(attempts), [200, 200])


def test_a_retried_job_publishes_kues_events_in_order(app_queue, client, workers):
    events = EventLog(app_queue)
    workers.start()
    fixed = app_queue.tasks["retry_fixed"].delay(fail_times=1)
    at_once = app_queue.tasks["retry_none"].delay(fail_times=1)
    fixed.wait(10), at_once.wait(10)
    wait_for(
        lambda: "complete" in events.of(fixed.id) and "complete" in events.of(at_once.id),
        5,
        message="both complete events",
    )
    # With backoff: Kue's "start, error, failed attempt(1), promotion, enqueue, start, ..., complete"
    assert events.of(fixed.id) == [
        "enqueue",
        "start",
        "error",
        "failed attempt",
        "promotion",
        "enqueue",
        "start",
        "complete",
    ]
    assert events.args(fixed.id, "failed attempt") == [("attempt 1 fails", 1)]
    assert events.args(fixed.id, "error")[0][0].startswith("RuntimeError: attempt 1 fails\nTraceback")
    # Without: the job is re-enqueued before `failed attempt`, as Kue does
    assert events.of(at_once.id) == ["enqueue", "start", "error", "enqueue", "failed attempt", "start", "complete"]
    # And the stored delay is the last backoff delay, the log has one line per failure
    assert fixed.refresh()._hash["delay"] == "200"
    assert app_queue.job_logs(fixed.id) == ["RuntimeError: attempt 1 fails"]


def test_a_job_failing_every_attempt_ends_failed(app_queue, client, workers):
    workers.start()
    job = app_queue.tasks["retry_none"].delay(fail_times=10)
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(10)
    assert info.value.error.startswith("RuntimeError: attempt 4 fails\n")
    assert job.refresh().state == "failed" and job.attempts() == (4, 0, 4)
    assert len(app_queue.job_logs(job.id)) == 4


def test_a_scheduled_job_is_promoted_then_run_about_300_ms_later(app_queue, client, workers):
    events = EventLog(app_queue)
    workers.start()
    # Given a job scheduled 0.3 s ahead
    job = app_queue.tasks["echo"].schedule(0.3, n=1)
    assert job.state == "delayed" and job.promote_at - job.created_at == 300
    # When the worker promotes and runs it
    assert job.wait(5) == {"n": 1}
    # Then it ran about 300 ms after it was created
    [run] = runs(client, "echo")
    ran_ms = run["at"] * 1000 - job.created_at
    assert 300 - EARLY_MS <= ran_ms <= 300 + LATE_MS
    # And Kue's promotion event came before the enqueue that woke the worker
    wait_for(lambda: "complete" in events.of(job.id), 5, message="the complete event")
    assert events.of(job.id) == ["promotion", "enqueue", "start", "complete"]


def test_ttl_exceeded_fails_the_job_and_discards_the_late_result(app_queue, client, workers, caplog):
    caplog.set_level(logging.INFO, logger="pykue.worker")
    events = EventLog(app_queue)
    workers.start()
    # Given a task with ttl=300 whose function sleeps 1.5 s
    job = app_queue.tasks["ttl"].delay(seconds=1.5)
    # When its TTL runs out
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(5)
    # Then it failed with exactly Kue's error, about 300 ms after it started
    stored = client.hgetall(f"q:job:{job.id}")
    assert info.value.error == stored["error"] == "TTL exceeded"
    assert stored["state"] == "failed"
    assert 300 <= int(stored["failed_at"]) - int(stored["started_at"]) <= 300 + LATE_MS
    assert app_queue.job_logs(job.id) == ["TTL exceeded"]
    # And Kue's event sequence went out: start, ttl exceeded, error, ttl exceeded ack, failed
    wait_for(lambda: "failed" in events.of(job.id), 5, message="the failed event")
    assert events.of(job.id) == ["enqueue", "start", "ttl exceeded", "error", "ttl exceeded ack", "failed"]
    assert events.args(job.id, "failed") == [("TTL exceeded", None)]
    # When the thread returns later, its result does not complete the job; the worker says so
    wait_for(lambda: runs(client, "ttl_return"), 5, message="the late return")
    wait_for(lambda: "result discarded" in caplog.text, 5, message="the discarded-result log line")
    stored = client.hgetall(f"q:job:{job.id}")
    assert stored["state"] == "failed" and "result" not in stored and "duration" not in stored
    assert client.get("q:stats:work-time") is None
    assert "complete" not in events.of(job.id)


def test_a_ttl_expired_job_frees_its_slot_at_once(app_queue, client, workers):
    # Given two jobs of a concurrency-1 task with ttl=300 that sleep 1 s each
    workers.start()
    first = app_queue.tasks["ttl"].delay(seconds=1.0)
    second = app_queue.tasks["ttl"].delay(seconds=1.0)
    for job in (first, second):
        with pytest.raises(pykue.JobFailedError):
            job.wait(5)
    # Then the second started when the first expired, not when its thread returned
    starts = [r for r in runs(client, "ttl_start")]
    assert [r["id"] for r in starts] == [first.id, second.id]
    gap = (starts[1]["at"] - starts[0]["at"]) * 1000
    assert 300 - EARLY_MS <= gap <= 300 + LATE_MS + 100


def test_a_ttl_expired_job_retried_at_once_leaves_no_slot_taken(app_queue, client, workers):
    # Given a task with ttl=300 and two attempts whose runs outlast the TTL: each expiry
    # queues the retry at once, which can start before the expired run is given up on
    worker = workers.start(concurrency=2)
    for _ in range(3):
        with pytest.raises(pykue.JobFailedError, match="TTL exceeded"):
            app_queue.tasks["ttl"].with_options(attempts=2).delay(seconds=0.5).wait(10)
    wait_for(lambda: len(runs(client, "ttl_return")) == 6, 10, message="the late returns")
    # Then, once the late runs have returned, no slot is left taken
    wait_for(
        lambda: not worker.running and worker.busy["ttl"] == 0,
        5,
        message=lambda: f"slots to be given back: busy {dict(worker.busy)}, running {list(worker.running)}",
    )


@pytest.mark.parametrize("expired_ms, taken_over", [(6_000, True), (1_000, False)])
def test_an_expired_job_no_pykue_worker_holds_is_failed_once_kue_had_its_chance(
    app_queue, client, workers, expired_ms, taken_over
):
    # Given a job with a TTL set active by hand (no worker runs it), its TTL passed expired_ms ago
    job = app_queue.create("echo", {"n": 1}).ttl(200).attempts(2).save()
    job.set_state("active")
    client.zadd("q:jobs:active", {f"{len(str(job.id)):02d}|{job.id}": now_ms() - expired_ms})
    # When a pykue worker's upkeep ticks a few times
    worker = workers.start()
    ticks = worker.upkeep.ticks
    wait_for(lambda: worker.upkeep.ticks >= ticks + 3, 5, message="three upkeep ticks")
    stored = job.refresh()
    if taken_over:
        # Then, 5 s past its TTL, it failed with Kue's TTL error, and its retry ran
        assert stored.error == "TTL exceeded"
        assert job.wait(5) == {"n": 1} and job.refresh().attempts()[0] == 2
    else:
        # Then, while Kue's own TTL checker could still fail it, pykue leaves it alone
        assert (stored.state, stored.error) == ("active", None)


def test_a_typeless_delayed_hash_is_dropped_from_the_index_and_delayed_jobs_still_promote(app_queue, client, workers):
    # Given what a stale Node Kue Job leaves of a removed job: a hash without a type, still indexed
    client.hset("q:job:99", mapping={"updated_at": "1", "state": "delayed", "promote_at": "1"})
    client.zadd("q:jobs:delayed", {"02|99": 1})
    job = app_queue.tasks["echo"].with_options(delay=100).delay(n=2)
    # When a worker starts
    workers.start()
    # Then the real delayed job is promoted and run, and the stray hash is left as it was
    assert job.wait(5) == {"n": 2}
    assert client.zscore("q:jobs:delayed", "02|99") is None
    assert client.hgetall("q:job:99") == {"updated_at": "1", "state": "delayed", "promote_at": "1"}


def test_a_job_indexed_delayed_whose_hash_moved_on_leaves_both_delayed_indexes(app_queue, client, workers):
    # Given a complete job still in the delayed sets (a stale Kue Job's write)
    job = app_queue.tasks["echo"].with_options(delay=60_000).delay(n=3)
    member = f"{len(str(job.id)):02d}|{job.id}"
    client.hset(f"q:job:{job.id}", "state", "complete")
    client.zadd("q:jobs:delayed", {member: 1})
    client.zadd("q:jobs:echo:delayed", {member: 1})
    # When a worker's upkeep comes to it (it is due)
    worker = workers.start()
    ticks = worker.upkeep.ticks
    wait_for(lambda: worker.upkeep.ticks >= ticks + 2, 5, message="two upkeep ticks")
    # Then it is in no delayed index and was not promoted
    assert client.zscore("q:jobs:delayed", member) is None and client.zscore("q:jobs:echo:delayed", member) is None
    assert client.hget(f"q:job:{job.id}", "state") == "complete"


def test_an_expired_active_entry_whose_hash_moved_on_is_dropped_from_the_active_indexes(app_queue, client, workers):
    # Given a failed job still in the active sets with a TTL deadline long past (Kue issue #944)
    job = app_queue.create("echo", {"n": 1}).ttl(200).save()
    member = f"{len(str(job.id)):02d}|{job.id}"
    client.hset(f"q:job:{job.id}", "state", "failed")
    client.zadd("q:jobs:active", {member: now_ms() - 60_000})
    client.zadd("q:jobs:echo:active", {member: 0})
    # When a worker's upkeep ticks
    worker = workers.start()
    ticks = worker.upkeep.ticks
    wait_for(lambda: worker.upkeep.ticks >= ticks + 2, 5, message="two upkeep ticks")
    # Then it no longer counts as active, and its hash is as it was
    assert client.zscore("q:jobs:active", member) is None and client.zscore("q:jobs:echo:active", member) is None
    assert client.hget(f"q:job:{job.id}", "state") == "failed" and app_queue.counts()["active"] == 0


def test_with_two_workers_a_ttl_expiry_is_handled_once(app_queue, client, workers):
    # Given two workers whose upkeep both look for expired jobs (one runs only echo)
    events = EventLog(app_queue)
    workers.start()
    workers.start(types=["echo"])
    jobs = [app_queue.tasks["ttl"].delay(seconds=0.6) for _ in range(3)]
    for job in jobs:
        with pytest.raises(pykue.JobFailedError):
            job.wait(5)
    # Then each expired job got exactly one `ttl exceeded`, before its error and failure
    for job in jobs:
        wait_for(lambda job=job: "failed" in events.of(job.id), 5, message="the failed event")
    wait_for(lambda: len(runs(client, "ttl_return")) == 3, 5, message="the late returns")
    for job in jobs:
        assert events.of(job.id) == ["enqueue", "start", "ttl exceeded", "error", "ttl exceeded ack", "failed"]
        assert app_queue.job_logs(job.id) == ["TTL exceeded"]


def test_threads_stuck_in_expired_jobs_do_not_starve_later_jobs(app_queue, client, workers):
    # Given a worker for one concurrency-1 sync task (so a small thread pool) with ttl=300,
    # and more jobs than the pool has threads, each stuck for 2.5 s
    workers.start(types=["ttl"])
    jobs = [app_queue.tasks["ttl"].delay(seconds=2.5) for _ in range(7)]
    # When each expires in turn
    for job in jobs:
        with pytest.raises(pykue.JobFailedError):
            job.wait(10)
    # Then every job's function started before its TTL ran out, though earlier threads still sleep
    starts = {r["id"]: r["at"] for r in runs(client, "ttl_start")}
    assert sorted(starts) == [j.id for j in jobs]
    assert len(runs(client, "ttl_return")) < len(jobs)
    assert app_queue.active_count() == 0 and app_queue.failed_count() == 7


def test_an_async_task_past_its_ttl_is_cancelled(app_queue, client, workers, caplog):
    caplog.set_level(logging.INFO, logger="pykue.worker")
    cancelled = []

    @app_queue.task("ttl_async", ttl=300, attempts=2)
    async def ttl_async():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(pykue.current_job().id)
            raise

    workers.start(types=["ttl_async"])
    job = ttl_async.delay()
    # When it runs past its TTL, it is retried, then fails for good; each time its coroutine is cancelled
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(5)
    assert info.value.error == "TTL exceeded"
    assert job.refresh().attempts() == (2, 0, 2)
    wait_for(lambda: len(cancelled) == 2, 2, message="both coroutines cancelled")
    assert cancelled == [job.id, job.id]
    assert app_queue.job_logs(job.id) == ["TTL exceeded", "TTL exceeded"]


def claim_for_a_dead_worker(queue, job_type):
    """Claim a job as a worker process that then died (its lease is gone)."""
    [(job_id, claim, _)] = claim_as(queue, "pykue:gone:1:dead00", {job_type: 1})
    queue.client.delete(queue.keys.worker_lease("pykue:gone:1:dead00"))
    return job_id


def test_a_job_whose_worker_died_runs_again_without_spending_an_attempt(app_queue, client, workers):
    # Given a job (1 attempt) held by a worker that died
    job = app_queue.tasks["echo"].delay(n=1)
    assert claim_for_a_dead_worker(app_queue, "echo") == job.id
    # When a live worker's upkeep finds it
    workers.start()
    # Then it is requeued once for free and completes
    assert job.wait(5) == {"n": 1}
    stored = client.hgetall(f"q:job:{job.id}")
    assert (stored["attempts"], stored["pykue_stalls"]) == ("1", "1")
    assert app_queue.job_logs(job.id) == ["Stalled: the worker running this job stopped (no heartbeat); requeued"]


def test_a_job_that_stalls_again_spends_an_attempt(app_queue, client, workers):
    # Given a job (1 attempt) that already stalled once, held again by a dead worker
    job = app_queue.tasks["echo"].delay(n=1)
    client.hset(f"q:job:{job.id}", "pykue_stalls", 1)
    claim_for_a_dead_worker(app_queue, "echo")
    # When a live worker's upkeep finds it, it fails: it may be what kills its workers
    workers.start()
    with pytest.raises(pykue.JobFailedError) as info:
        job.wait(5)
    assert info.value.error == "Stalled: the worker running this job stopped (no heartbeat)"
    assert client.hget(f"q:job:{job.id}", "pykue_stalls") == "2"
    assert runs(client) == []


def test_a_job_retried_at_once_gives_its_slot_back(app_queue, workers):
    # Given an idle worker and jobs, one at a time, whose first attempt fails and is retried
    # at once: the retry's token wakes the worker before the failed run has been released
    worker = workers.start(concurrency=4)
    for _ in range(6):
        assert app_queue.tasks["retry_none"].delay(fail_times=1).wait(10) == {"attempt": 2}
    # Then, once idle, the worker holds no slot for a run that ended
    wait_for(
        lambda: not worker.running and worker.busy["retry_none"] == 0,
        5,
        message=lambda: f"slots to be given back: busy {dict(worker.busy)}, running {list(worker.running)}",
    )
