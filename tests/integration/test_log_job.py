"""log_job.lua: RPUSH the rendered line and touch updated_at; never recreate a removed job."""

from __future__ import annotations

import pytest

from pykue import JobNotFoundError, PykueError
from tests.helpers import claim_as
from tests.redis_probe import events, snapshot  # noqa: F401


def test_lines_are_appended_oldest_first(queue, client, events):
    job = queue.create("email").save()
    events.collect()

    job.log("first").log("this is %s number %d", "test", 1)

    assert client.lrange("q:job:1:log", 0, -1) == ["first", "this is test number 1"]
    assert job.logs() == ["first", "this is test number 1"]
    assert queue.job_logs(1) == queue.job_logs("1") == ["first", "this is test number 1"]
    assert events.collect() == []  # Kue publishes no event for a log line


def test_updated_at_is_refreshed_and_nothing_else_changes(queue, client):
    job = queue.create("email").save()
    client.hset("q:job:1", "updated_at", "1")
    before = client.hgetall("q:job:1")

    job.log("x")

    after = client.hgetall("q:job:1")
    assert int(after.pop("updated_at")) > 1
    before.pop("updated_at")
    assert after == before


def test_html_and_unicode_are_stored_verbatim(queue, client):
    job = queue.create("email").save()

    job.log("<script>alert('x')</script> ✓")

    assert client.lrange("q:job:1:log", 0, -1) == ["<script>alert('x')</script> ✓"]


def test_values_are_rendered_readably(queue, client):
    job = queue.create("email").save()

    job.log({"a": 1}).log(None).log(True).log(ValueError("boom")).log(1.5)

    assert client.lrange("q:job:1:log", 0, -1) == ["{ a: 1 }", "null", "true", "ValueError: boom", "1.5"]


def test_a_removed_job_is_not_recreated(queue, client):
    job = queue.create("email").save()
    job.remove()
    before = snapshot(client)

    with pytest.raises(JobNotFoundError):
        job.log("late line")

    assert snapshot(client) == before
    assert client.exists("q:job:1", "q:job:1:log") == 0


def test_an_unsaved_job_cannot_log(queue, client):
    with pytest.raises(PykueError, match="not been saved"):
        queue.create("email").log("x")
    assert client.dbsize() == 0


def test_logs_of_an_unknown_job_are_empty(queue):
    assert queue.job_logs(42) == []
    assert queue.job_logs("nope") == []


def test_a_worker_whose_claim_is_gone_logs_nothing(queue, client):
    # Given a run that lost its claim (its TTL expired and a retry holds the job now)
    queue.create("email").save()
    [(job_id, claim, _)] = claim_as(queue, "w1", {"email": 1})
    stale, current = queue.get_job(job_id), queue.get_job(job_id)
    stale.claim = claim
    client.hset(f"q:job:{job_id}", "pykue_claim", "w1/1/2")
    current.claim = "w1/1/2"
    before = snapshot(client)
    # When both log
    stale.log("late line from the expired run")
    assert snapshot(client) == before
    current.log("line from the retry")
    # Then only the current claim holder's line is kept; a caller with no claim may always log
    queue.get_job(job_id).log("from the dashboard")
    assert client.lrange(f"q:job:{job_id}:log", 0, -1) == ["line from the retry", "from the dashboard"]
