"""What the complete, fail and cancel scripts add to a type's stats hash, read back as /metrics reads it."""

from __future__ import annotations

from pykue.metrics import type_stats
from tests.helpers import claim_as


def test_an_attempt_is_filed_under_its_own_duration_and_wait(queue, client):
    # Given a job that waited two seconds and then ran for 3 ms
    job = queue.create("email").save()
    [claimed] = claim_as(queue, "w1", {"email": 1})
    started = int(client.hget(f"q:job:{job.id}", "started_at"))
    client.hset(f"q:job:{job.id}", mapping={"created_at": started - 2000, "promote_at": started - 2000})
    # When it completes
    queue.scripts.complete_jobs(queue.client, started + 3, [(claimed.id, claimed.claim, "")])
    stats = type_stats({}, client.hgetall(queue.keys.type_stats("email")))
    duration, wait = dict(stats.duration.buckets), dict(stats.wait.buckets)
    # Then its duration is in the 5 ms bucket and its wait in the 2.5 s one, not the other way
    assert duration["0.005"] == 1 and wait["1"] == 0 and wait["2.5"] == 1
    assert stats.complete == 1 and stats.duration.sum_seconds == 0.003 and stats.wait.sum_seconds == 2.0


def test_an_active_job_cancelled_before_it_started_counts_as_failed_and_is_not_timed(queue, client):
    # Given an active job with no start time (its hash edited by hand)
    job = queue.create("email").save()
    claim_as(queue, "w1", {"email": 1})
    client.hdel(f"q:job:{job.id}", "started_at")
    # When it is cancelled
    job.cancel("gone")
    # Then it counts as failed for good, and in neither histogram
    stats = type_stats({}, client.hgetall(queue.keys.type_stats("email")))
    assert stats.failed == 1 and stats.duration.buckets[-1] == ("+Inf", 0.0)
