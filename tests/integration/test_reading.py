"""The reading API: counts, state_ids, Kue's range semantics, types, work_time, get_job, logs."""

from __future__ import annotations

import pytest

from pykue import Job, JobNotFoundError


@pytest.fixture
def mixed(queue):
    """ids 1..4 with priorities low, high, normal, critical: score order 4, 2, 3, 1."""
    for level in ("low", "high", "normal", "critical"):
        queue.create("email", {"level": level}).priority(level).save()
    return queue


def ids(jobs: list[Job]) -> list[int]:
    return [job.id for job in jobs]


def test_counts_per_state_and_type(queue):
    queue.create("a").save()
    queue.create("a").save().set_state("complete")
    queue.create("b").save().set_state("failed")
    queue.create("b").delay(60_000).save()
    queue.create("b").save().set_state("active")

    assert queue.counts() == {"inactive": 1, "active": 1, "complete": 1, "failed": 1, "delayed": 1}
    assert queue.counts("a") == {"inactive": 1, "active": 0, "complete": 1, "failed": 0, "delayed": 0}
    assert queue.counts("b") == {"inactive": 0, "active": 1, "complete": 0, "failed": 1, "delayed": 1}
    assert (
        queue.inactive_count(),
        queue.active_count(),
        queue.complete_count(),
        queue.failed_count(),
        queue.delayed_count(),
    ) == (1, 1, 1, 1, 1)
    assert queue.inactive_count("a") == 1 and queue.inactive_count("b") == 0
    assert queue.count("delayed", "b") == 1
    assert queue.counts("nosuch") == dict.fromkeys(("inactive", "active", "complete", "failed", "delayed"), 0)


def test_state_ids_are_numbers_in_score_order(mixed):
    assert mixed.state_ids("inactive") == [4, 2, 3, 1]
    assert mixed.state_ids("failed") == []


def test_range_picks_ranks_by_score_then_sorts_by_id(mixed):
    assert ids(mixed.range(0, 1)) == [2, 4]
    assert ids(mixed.range(0, 1, "desc")) == [4, 2]
    assert ids(mixed.range(1, 2)) == [2, 3]


def test_range_is_inclusive_and_takes_negative_indexes(mixed):
    assert ids(mixed.range(0, -1)) == [1, 2, 3, 4]
    assert ids(mixed.range(0, 3)) == [1, 2, 3, 4]
    assert ids(mixed.range(-2, -1)) == [1, 3]
    assert ids(mixed.range(0, 0)) == [4]
    assert ids(mixed.range(10, 20)) == []
    assert ids(mixed.range(0, -1, "desc")) == [4, 3, 2, 1]


def test_range_by_state(mixed):
    mixed.get_job(4).set_state("complete")

    assert ids(mixed.range_by_state("inactive", 0, 1)) == [2, 3]
    assert ids(mixed.range_by_state("inactive", 0, -1, "desc")) == [3, 2, 1]
    assert ids(mixed.range_by_state("complete", 0, -1)) == [4]


def test_range_by_state_delayed_pages_by_promote_at(queue):
    queue.create("t").delay(30_000).save()
    queue.create("t").delay(10_000).save()
    queue.create("t").delay(20_000).save()

    assert ids(queue.range_by_state("delayed", 0, 0)) == [2]
    assert ids(queue.range_by_state("delayed", 0, 1)) == [2, 3]


def test_range_by_type(mixed):
    mixed.create("sms").save()
    mixed.create("a:b").priority("high").save()

    assert ids(mixed.range_by_type("email", "inactive", 0, 1)) == [2, 4]
    assert ids(mixed.range_by_type("sms", "inactive", 0, -1)) == [5]
    assert ids(mixed.range_by_type("a:b", "inactive", 0, -1, "desc")) == [6]
    assert ids(mixed.range_by_type("nosuch", "inactive", 0, -1)) == []


def test_range_returns_loaded_jobs_and_skips_vanished_ones(mixed, client):
    client.delete("q:job:2")  # a hash gone while its zid stays indexed

    jobs = mixed.range(0, -1)

    assert ids(jobs) == [1, 3, 4]
    assert jobs[0].data == {"level": "low"} and jobs[0].type == "email" and jobs[0].state == "inactive"


def test_range_refuses_an_unknown_order(mixed):
    with pytest.raises(ValueError, match="order"):
        mixed.range(0, -1, "sideways")


def test_types_are_every_type_ever_saved(queue):
    assert queue.types() == []
    queue.create("sms").save()
    queue.create("email").save().remove()

    assert queue.types() == ["email", "sms"]


def test_work_time(queue, client):
    assert queue.work_time() is None
    client.incrby("q:stats:work-time", 42)
    assert queue.work_time() == 42


def test_get_job(queue):
    saved = queue.create("email", {"to": "a"}).priority("high").save()

    job = queue.get_job(saved.id)
    same = queue.get_job(str(saved.id))

    assert job.id == same.id == 1
    assert (job.type, job.data, job.priority(), job.state) == ("email", {"to": "a"}, -10, "inactive")


@pytest.mark.parametrize("missing", [999, "999"])
def test_get_job_of_an_unknown_id(queue, missing):
    with pytest.raises(JobNotFoundError) as info:
        queue.get_job(missing)
    assert str(info.value) == 'job "999" doesnt exist'
    assert isinstance(info.value, LookupError)


def test_get_job_of_a_typeless_partial_hash(queue, client):
    client.hset("q:job:7", "progress", "50")  # what a late Kue write leaves behind

    with pytest.raises(JobNotFoundError, match='job "7" doesnt exist'):
        queue.get_job(7)


def test_get_jobs_keeps_the_order_asked(queue):
    for n in range(3):
        queue.create("t", {"n": n}).save()
    assert ids(queue.get_jobs([3, 99, 1])) == [3, 1]


def test_job_logs(queue):
    job = queue.create("t").save().log("one").log("two")

    assert queue.job_logs(job.id) == ["one", "two"]
    assert queue.job_logs(12345) == []
    assert queue.job_logs("not-an-id") == []


def test_refresh_sees_other_writers(queue):
    job = queue.create("t").save()
    queue.get_job(job.id).set_priority("high")

    assert job.priority() == 0
    assert job.refresh().priority() == -10
