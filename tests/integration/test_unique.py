"""Unique jobs: while a job with the same key is queued, delayed or running, and for
``unique_for`` seconds after it ended, saving creates nothing and returns that job. Decided
in save_jobs.lua, so two producer processes racing create one job."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pykue import InvalidJobError, Queue
from tests.helpers import wait_for
from tests.workerapp.support import REPO_ROOT


@pytest.fixture
def tasks(queue: Queue):
    @queue.task("report", unique=True)
    def report(day: str, **options) -> str:
        return day

    @queue.task("sync", attempts=2)
    def sync(user: int) -> int:
        raise ValueError(user)

    return report, sync


def test_a_second_delay_returns_the_waiting_job(queue: Queue, tasks) -> None:
    report, _ = tasks
    first = report.delay(day="mon", options={"a": 1, "b": 2})
    # the same data, its keys in another order: the same job
    second = report.delay(day="mon", options={"b": 2, "a": 1})
    assert first.duplicate_of is None
    assert (second.id, second.duplicate_of, second.state) == (first.id, first.id, "inactive")
    assert queue.count("inactive", "report") == 1
    # other data: another job
    other = report.delay(day="tue")
    assert other.id != first.id and other.duplicate_of is None
    assert queue.count("inactive", "report") == 2


def test_a_batch_holding_duplicates_creates_each_job_once(queue: Queue, tasks) -> None:
    report, _ = tasks
    jobs = report.delay_many([{"day": "mon"}, {"day": "tue"}, {"day": "mon"}])
    assert jobs[2].id == jobs[0].id and jobs[2].duplicate_of == jobs[0].id
    assert jobs[1].id != jobs[0].id
    assert queue.count("inactive", "report") == 2


def test_the_key_is_kept_while_running_and_released_at_the_end(queue: Queue, tasks, workers) -> None:
    report, _ = tasks
    job = report.delay(day="mon")
    job.set_state("active")
    assert report.delay(day="mon").id == job.id  # running: still unique
    job.set_state("inactive")
    workers.burst(queue)
    assert job.refresh().state == "complete"
    # unique_for 0: ended, so a new job may be made
    again = report.delay(day="mon")
    assert again.id != job.id and again.duplicate_of is None


def test_unique_for_keeps_the_key_after_the_job_ended(queue: Queue, tasks, workers) -> None:
    report, _ = tasks
    keyed = report.with_options(unique_key="monday", unique_for=5)
    job = keyed.delay(day="mon")
    assert keyed.delay(day="other data, same key").id == job.id
    workers.burst(queue)
    assert job.refresh().state == "complete"
    assert keyed.delay(day="mon").duplicate_of == job.id  # within unique_for of its end
    assert 0 < queue.client.pttl("q:pykue:unique:report:monday") <= 5000
    wait_for(lambda: keyed.delay(day="mon").duplicate_of is None, 15, message="the key to expire")
    assert queue.count("complete", "report") == 1 and queue.count("inactive", "report") == 1


def test_a_final_failure_releases_the_key_and_a_retry_keeps_it(queue: Queue, tasks, workers) -> None:
    _, sync = tasks
    unique_sync = sync.with_options(unique_key="user:42")
    job = unique_sync.delay(user=42)
    workers.burst(queue)  # two attempts, both failing
    assert job.refresh().state == "failed" and job.attempts().made == 2
    assert unique_sync.delay(user=42).duplicate_of is None


def test_removing_the_job_releases_the_key(queue: Queue, tasks) -> None:
    report, _ = tasks
    job = report.delay(day="mon")
    job.remove()
    assert report.delay(day="mon").duplicate_of is None


def test_a_cancelled_job_releases_the_key(queue: Queue, tasks) -> None:
    report, _ = tasks
    job = report.delay(day="mon")
    job.cancel()
    assert report.delay(day="mon").duplicate_of is None


def test_bad_unique_options_are_refused(queue: Queue, tasks) -> None:
    report, _ = tasks
    for options in ({"unique_key": ""}, {"unique_for": -1}, {"unique": "yes"}, {"unique_key": 5}):
        with pytest.raises(InvalidJobError):
            report.with_options(**options)
    with pytest.raises(InvalidJobError):
        queue.create("report", {}).unique("k", for_seconds=float("nan"))
    assert queue.count("inactive") == 0


RACER = """
import sys, time
from pykue import Queue
q = Queue(sys.argv[1])
task = q.task("nightly")(lambda **d: None).with_options(unique_key="the-one", unique_for=60)
start = float(sys.argv[2])
time.sleep(max(0, start - time.time()))
made = [task.delay(n=i).duplicate_of is None for i in range(200)]
print(sum(made))
"""


def test_two_producer_processes_racing_make_one_job(queue: Queue, redis_server) -> None:
    # Given two processes that delay the same unique job 200 times each, starting together
    start = time.time() + 1.5
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, redis_server.url, str(start)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    created = [int(racer.communicate(timeout=60)[0]) for racer in racers]
    # Then exactly one job was created, by one of them
    assert sorted(created) == [0, 1]
    assert queue.count("inactive", "nightly") == 1


def test_a_key_left_by_a_job_that_ended_outside_pykue_is_stale(queue: Queue, tasks) -> None:
    # a Node Kue worker completing the job, or a state set by hand, releases nothing
    report, _ = tasks
    job = report.delay(day="mon")
    job.set_state("complete")
    again = report.delay(day="mon")
    assert again.duplicate_of is None and again.id != job.id
    assert report.delay(day="mon").id == again.id


def test_a_stored_job_reads_back_its_unique_key_whatever_its_type(queue: Queue) -> None:
    # Given unique jobs of types with and without a colon (Kue allows "mail:welcome")
    for job_type in ("mail:welcome", "report"):
        saved = queue.create(job_type, {"to": 1}).unique("user:42", 60).save()
        # When read back from Redis, its unique key is the one it was given
        stored = queue.get_job(saved.id)
        assert (stored.unique(), queue.create(job_type, {"to": 2}).unique("user:42").save().duplicate_of) == (
            "user:42",
            saved.id,
        )
