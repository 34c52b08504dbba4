"""Retention: ``remove_on_complete`` / ``remove_on_fail`` as True, a count to keep, or
``{"age": s, "count": n}``, applied by the complete and fail scripts themselves; Kue's
boolean removeOnComplete; ``queue.clean`` and ``pykue clean``."""

from __future__ import annotations

import time

import pytest

from pykue import InvalidJobError, Queue
from pykue.job_hash import now_ms
from tests.helpers import lease
from tests.workerapp.support import pykue_cli


def ids_in(queue: Queue, state: str, job_type: str) -> list[int]:
    return sorted(job.id for job in queue.range_by_type(job_type, state, 0, -1))


def test_a_count_keeps_exactly_the_latest_completed_jobs(queue: Queue, client, workers) -> None:
    @queue.task("keep3", remove_on_complete=3)
    def keep3(n: int) -> int:
        return n

    jobs = keep3.delay_many([{"n": i} for i in range(10)])
    workers.burst(queue)
    kept = ids_in(queue, "complete", "keep3")
    assert kept == [job.id for job in jobs[-3:]]
    assert queue.count("complete") == 3 and client.zcard("q:jobs") == 3
    assert not client.exists(*[f"q:job:{job.id}" for job in jobs[:7]])
    assert client.zcard("q:pykue:finished:keep3:complete") == 3
    assert queue.get_job(kept[0]).remove_on_complete() == 3


def test_jobs_ending_in_one_batch_are_kept_by_id(queue: Queue, client) -> None:
    # Given twelve jobs (ids 1..12: "10" sorts before "9" as text) completed in one call, one ms
    jobs = queue.create_many([queue.create("batch", {}).remove_on_complete(4) for _ in range(12)])
    store = queue.store.for_worker()
    lease(queue, "w1")
    claimed = store.claim_jobs(now_ms(), "w1", {"batch": 12}).claimed
    completion = store.complete_jobs(now_ms(), [(c.id, c.claim, "") for c in claimed])
    # Then the four with the highest ids are the ones kept
    assert completion.replies == [1] * 12
    assert ids_in(queue, "complete", "batch") == [job.id for job in jobs[-4:]]


def test_an_age_removes_jobs_older_than_it_as_others_finish(queue: Queue, workers) -> None:
    @queue.task("young", remove_on_complete={"age": 3})
    def young(n: int) -> int:
        return n

    old = young.delay_many([{"n": i} for i in range(4)])
    workers.burst(queue)
    assert ids_in(queue, "complete", "young") == [job.id for job in old]
    time.sleep(3.1)
    new = young.delay(n=9)
    workers.burst(queue)
    assert ids_in(queue, "complete", "young") == [new.id]


def test_age_and_count_together(queue: Queue, workers) -> None:
    @queue.task("both", remove_on_complete={"age": 3600, "count": 2})
    def both(n: int) -> int:
        return n

    jobs = both.delay_many([{"n": i} for i in range(5)])
    workers.burst(queue)
    assert ids_in(queue, "complete", "both") == [job.id for job in jobs[-2:]]


def test_remove_on_fail_keeps_the_latest_failures_and_true_keeps_none(queue: Queue, workers) -> None:
    @queue.task("bad", remove_on_fail=2)
    def bad(n: int) -> None:
        raise ValueError(n)

    @queue.task("worse", remove_on_fail=True)
    def worse(n: int) -> None:
        raise ValueError(n)

    failing = bad.delay_many([{"n": i} for i in range(5)])
    worse.delay_many([{"n": i} for i in range(3)])
    workers.burst(queue)
    assert ids_in(queue, "failed", "bad") == [job.id for job in failing[-2:]]
    assert queue.count("failed", "worse") == 0


def test_a_queue_default_applies_unless_a_task_sets_its_own(redis_server, client, workers) -> None:
    q = Queue(redis_server.url, "q", remove_on_complete=1)
    try:

        @q.task("default")
        def default(n: int) -> int:
            return n

        @q.task("kept", remove_on_complete=False)
        def kept(n: int) -> int:
            return n

        default.delay_many([{"n": i} for i in range(3)])
        kept.delay_many([{"n": i} for i in range(3)])
        workers.burst(q)
        assert q.count("complete", "default") == 1
        assert q.count("complete", "kept") == 3
    finally:
        q.close()


def test_kues_boolean_remove_on_complete_still_removes(queue: Queue, workers) -> None:
    @queue.task("kue_style")
    def kue_style() -> None:
        return None

    job = queue.create("kue_style", {}).apply_kue_options({"removeOnComplete": True}).save()
    assert job.stored_field("removeOnComplete") == "true"
    workers.burst(queue)
    assert queue.count("complete") == 0 and queue.get_jobs([job.id]) == []


def test_a_job_moved_out_of_its_state_by_hand_is_not_removed_by_its_old_rule(queue: Queue, workers) -> None:
    @queue.task("again", remove_on_complete=1)
    def again(n: int) -> int:
        return n

    first = again.delay(n=1)
    workers.burst(queue)
    first.set_state("failed")  # moved by hand: no longer one of the completed jobs
    second = again.delay(n=2)
    workers.burst(queue)
    # the rule trims completed jobs only: the first stays failed, the second stays complete
    assert first.refresh().state == "failed"
    assert ids_in(queue, "complete", "again") == [second.id]


def test_bad_rules_are_refused_and_nothing_is_saved(queue: Queue) -> None:
    for rule in ("yes", -1, 1.5, {}, {"age": -1}, {"count": "3"}, {"days": 1}, {"age": float("nan")}):
        with pytest.raises(InvalidJobError):
            queue.create("t", {}).remove_on_complete(rule)
        with pytest.raises(InvalidJobError):
            queue.task("t", remove_on_fail=rule)(lambda: None)
    with pytest.raises(InvalidJobError):
        Queue(queue.client, "q", remove_on_complete="always")
    assert queue.count("inactive") == 0


def test_clean_removes_old_jobs_of_a_state(queue: Queue, client) -> None:
    done = [queue.create("a" if i % 2 else "b", {}).save() for i in range(6)]
    for job in done:
        job.set_state("complete")
    fresh = queue.create("a", {}).save()
    # nothing is older than an hour
    assert queue.clean("complete", older_than=3600) == 0
    # by type, with a limit
    assert queue.clean("complete", type="a", limit=2) == 2
    assert queue.count("complete", "a") == 1
    # every type
    assert queue.clean("complete") == 4
    assert queue.count("complete") == 0
    assert fresh.refresh().state == "inactive"
    with pytest.raises(InvalidJobError):
        queue.clean("active")
    with pytest.raises(InvalidJobError):
        queue.clean("complete", older_than=-1)


def test_clean_walks_more_than_a_page(queue: Queue) -> None:
    jobs = queue.create_many([("p", {}) for _ in range(1200)])
    assert queue.clean("inactive", limit=1100) == 1100
    assert queue.clean("inactive") == 100
    assert queue.get_jobs([job.id for job in jobs]) == []


def test_pykue_clean_and_cancel_commands(queue: Queue, redis_server) -> None:
    old = queue.create("c", {}).save()
    old.set_state("failed")
    waiting = queue.create("c", {}).save()
    result = pykue_cli("clean", "failed", "--older-than", "1h", redis_url=redis_server.url)
    assert (result.returncode, result.stdout) == (0, "removed 0 failed jobs\n")
    result = pykue_cli("clean", "failed", "--type", "c", redis_url=redis_server.url)
    assert (result.returncode, result.stdout) == (0, "removed 1 failed job\n")
    result = pykue_cli("clean", "active", redis_url=redis_server.url)
    assert result.returncode == 2 and "active" in result.stderr
    result = pykue_cli("clean", "failed", "--older-than", "soon", redis_url=redis_server.url)
    assert result.returncode == 2 and "is not an age" in result.stderr
    result = pykue_cli("cancel", str(waiting.id), "999999", "--reason", "cli", redis_url=redis_server.url)
    assert result.returncode == 1
    assert result.stdout == f"job {waiting.id}: cancelled\n" and "999999: no such job" in result.stderr
    assert waiting.refresh().error == "Cancelled: cli"
    result = pykue_cli("cancel", "abc", redis_url=redis_server.url)
    assert result.returncode == 2
