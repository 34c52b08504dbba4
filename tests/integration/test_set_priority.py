"""set_priority.lua: a new priority re-scores every index the job is in, without a token or event.

Kue's HTTP route re-saved the job, pushing a second token and a second `enqueue`; pykue does not.
"""

from __future__ import annotations

import pytest

from pykue import InvalidJobError, JobNotFoundError
from tests.redis_probe import assert_placed, events, snapshot, tokens, zid  # noqa: F401


def test_inactive_job_is_rescored_everywhere(queue, client, events):
    job = queue.create("email").save()
    events.collect()

    job.set_priority("critical")

    assert client.hget("q:job:1", "priority") == "-15"
    assert_placed(client, job.id, "email", "inactive", -15)
    assert tokens(client, "email") == ["1"]
    assert events.collect() == []
    assert job.priority() == -15


def test_numbers_and_numeric_strings_are_accepted(queue, client):
    job = queue.create("email").save()

    job.set_priority(7)
    assert_placed(client, job.id, "email", "inactive", 7)
    job.set_priority("-3")
    assert_placed(client, job.id, "email", "inactive", -3)


def test_new_priority_changes_the_pop_order(queue, client):
    queue.create("t").save()
    second = queue.create("t").save()

    second.set_priority("high")

    assert client.zrange("q:jobs:t:inactive", 0, -1) == ["01|2", "01|1"]


def test_delayed_job_keeps_its_promote_at_score(queue, client):
    job = queue.create("email").delay(10_000).save()
    promote_at = int(client.hget("q:job:1", "promote_at"))

    job.set_priority("low")

    assert_placed(client, job.id, "email", "delayed", 10, score=promote_at)


def test_active_job_without_ttl_is_scored_minus_abs_priority(queue, client):
    job = queue.create("email").save()
    job.active()

    job.set_priority(4)
    assert_placed(client, job.id, "email", "active", 4, score=-4)
    job.set_priority(-6)
    assert_placed(client, job.id, "email", "active", -6, score=-6)


def test_active_job_with_ttl_keeps_its_deadline(queue, client):
    job = queue.create("email").ttl(60_000).save()
    job.active()
    deadline = client.zscore("q:jobs:active", zid(job.id))

    job.set_priority("high")

    assert_placed(client, job.id, "email", "active", -10, score=deadline)


def test_complete_and_failed_jobs_are_rescored(queue, client):
    done = queue.create("a").save().complete()
    failed = queue.create("a").save().failed()

    done.set_priority(2)
    failed.set_priority(-2)

    assert_placed(client, done.id, "a", "complete", 2)
    assert_placed(client, failed.id, "a", "failed", -2)


def test_updated_at_is_refreshed(queue, client):
    job = queue.create("email").save()
    client.hset("q:job:1", "updated_at", "1")

    job.set_priority("high")

    assert int(client.hget("q:job:1", "updated_at")) > 1


@pytest.mark.parametrize("bad", ["urgent", "", 1.5, None, True, [1], "1.5", 2**53, -(2**53)])
def test_invalid_priorities_are_refused_before_any_write(queue, client, bad):
    job = queue.create("email").save()
    before = snapshot(client)

    with pytest.raises(InvalidJobError) as info:
        job.set_priority(bad)

    assert isinstance(info.value, ValueError)
    assert info.value.field == "priority"
    assert repr(bad) in str(info.value)
    assert snapshot(client) == before


def test_unknown_job_raises_and_writes_nothing(queue, client):
    job = queue.create("email").save()
    job.remove()
    before = snapshot(client)

    with pytest.raises(JobNotFoundError):
        job.set_priority("high")

    assert snapshot(client) == before
