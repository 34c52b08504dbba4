"""Kue's test mode: enter() records saved jobs and writes nothing; enter(process=True) also saves."""

from __future__ import annotations

import pytest

from pykue import InvalidJobError, PykueError


def test_enter_records_jobs_with_string_ids_and_writes_nothing(queue, client):
    queue.test_mode.enter()
    try:
        job = queue.create("email", {"to": "a"}).priority("high").save()
        other = queue.create("sms").save()
        many = queue.create_many([("bulk", {"i": 1}), ("bulk", {"i": 2})])
    finally:
        queue.test_mode.exit()

    assert client.dbsize() == 0
    assert [j.type for j in queue.test_mode.jobs] == ["email", "sms", "bulk", "bulk"]
    assert queue.test_mode.jobs[0] is job and job.data == {"to": "a"} and job.priority() == -10
    ids = [j.id for j in [job, other, *many]]
    assert all(isinstance(i, str) for i in ids) and len(set(ids)) == 4


def test_enter_with_process_records_and_saves(queue, client):
    queue.test_mode.enter(process=True)
    try:
        job = queue.create("email", {"to": "b"}).save()
    finally:
        queue.test_mode.exit()

    assert queue.test_mode.jobs == [job]
    assert job.id == 1
    assert client.hget("q:job:1", "type") == "email"
    assert client.llen("q:email:jobs") == 1


def test_clear_empties_the_record(queue):
    queue.test_mode.enter()
    queue.create("t").save()
    queue.create("t").save()

    queue.test_mode.clear()

    assert queue.test_mode.jobs == []
    queue.test_mode.exit()


def test_exit_saves_for_real_again(queue, client):
    queue.test_mode.enter()
    queue.test_mode.exit()

    job = queue.create("t").save()

    assert queue.test_mode.jobs == []
    assert job.id == 1 and client.exists("q:job:1") == 1


def test_each_queue_has_its_own_test_mode(queue, redis_server, client):
    from pykue import Queue

    other = Queue(redis=redis_server.url, prefix="other")
    try:
        queue.test_mode.enter()
        other.create("t").save()
        queue.create("t").save()
        queue.test_mode.exit()
        assert len(queue.test_mode.jobs) == 1 and other.test_mode.jobs == []
        assert client.get("other:ids") == "1" and client.get("q:ids") is None
    finally:
        other.close()


def test_setters_still_validate_in_test_mode(queue):
    queue.test_mode.enter()
    try:
        with pytest.raises(InvalidJobError):
            queue.create("t").priority("urgent")
        with pytest.raises(InvalidJobError):
            queue.create("")
    finally:
        queue.test_mode.exit()


def test_a_job_recorded_by_test_mode_never_touches_redis(queue, client):
    real = queue.create("email", {"to": "real"}).save()
    queue.test_mode.enter()
    fake = queue.create("email", {"to": "fake"}).save()
    assert fake.id == "1" and real.id == 1  # Kue's string counter may repeat a real id

    for operation in (
        fake.remove,
        lambda: fake.log("x"),
        lambda: fake.progress(1, 2),
        lambda: fake.set_state("failed"),
    ):
        with pytest.raises(PykueError, match="test mode"):
            operation()
    queue.test_mode.exit()

    assert client.hget("q:job:1", "state") == "inactive"
    assert client.lrange("q:job:1:log", 0, -1) == []
