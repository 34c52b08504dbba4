"""set_state.lua: admin state changes read the state in Redis and fix every index in one go."""

from __future__ import annotations

import time

import pytest

from pykue import InvalidStateError, JobNotFoundError, JobState
from pykue.job import now_ms
from tests.helpers import claim_as
from tests.redis_probe import assert_placed, enqueue, events, snapshot, tokens, zid  # noqa: F401


def now_ms() -> int:
    return int(time.time() * 1000)


def test_inactive_to_active_moves_both_sets_and_scores_minus_priority(queue, client, events):
    job = queue.create("email").priority("low").save()
    events.collect()

    job.set_state("active")

    assert_placed(client, job.id, "email", "active", 10, score=-10)
    assert job.state == "active"
    assert tokens(client, "email") == ["1"]  # a manual activation consumes no token, as in Kue
    assert events.collect() == []


def test_active_with_a_negative_priority_keeps_it_as_score(queue, client):
    job = queue.create("email").priority("high").save()

    job.active()

    assert_placed(client, job.id, "email", "active", -10, score=-10)


def test_active_with_ttl_is_scored_by_its_deadline(queue, client):
    job = queue.create("email").ttl(5000).save()
    before = now_ms()

    job.set_state(JobState.ACTIVE)

    score = client.zscore("q:jobs:active", zid(job.id))
    assert before + 5000 <= score <= now_ms() + 5000
    assert client.zscore("q:jobs:email:active", zid(job.id)) == 0


def test_complete_sets_progress_100(queue, client, events):
    job = queue.create("email").save()
    events.collect()

    job.complete()

    assert_placed(client, job.id, "email", "complete", 0)
    assert client.hget("q:job:1", "progress") == "100"
    assert events.collect() == []


def test_failed_sets_failed_at(queue, client):
    job = queue.create("email").save()
    before = now_ms()

    job.failed()

    assert_placed(client, job.id, "email", "failed", 0)
    assert before <= int(client.hget("q:job:1", "failed_at")) <= now_ms()
    assert job.failed_at == int(client.hget("q:job:1", "failed_at"))


def test_back_to_inactive_pushes_a_token_and_publishes_enqueue(queue, client, events):
    job = queue.create("email").priority("medium").save()
    job.failed()
    client.delete("q:email:jobs")  # the worker's BLPOP took the creation token
    events.collect()

    job.inactive()

    assert_placed(client, job.id, "email", "inactive", -5)
    assert tokens(client, "email") == ["1"]
    assert events.collect() == [enqueue(1, "email")]


def test_inactive_again_adds_no_duplicate_token_or_event(queue, client, events):
    job = queue.create("email").save()
    events.collect()

    job.set_state("inactive")

    assert_placed(client, job.id, "email", "inactive", 0)
    assert tokens(client, "email") == ["1"]
    assert events.collect() == []


def test_inactive_again_restores_a_missing_token(queue, client, events):
    job = queue.create("email").save()
    client.delete("q:email:jobs")  # a lost token: the job would wait forever in Kue
    events.collect()

    job.set_state("inactive")

    assert tokens(client, "email") == ["1"]
    assert events.collect() == [enqueue(1, "email")]


def test_delayed_is_scored_by_promote_at(queue, client):
    job = queue.create("email").priority("high").save()
    promote_at = int(client.hget("q:job:1", "promote_at"))

    job.delayed()

    assert_placed(client, job.id, "email", "delayed", -10, score=promote_at)


def test_updated_at_moves_forward(queue, client):
    job = queue.create("email").save()
    client.hset("q:job:1", "updated_at", "1")

    job.complete()

    assert int(client.hget("q:job:1", "updated_at")) > 1


def test_reads_the_state_from_redis_not_from_a_stale_object(queue, client):
    job = queue.create("email").save()
    stale = queue.get_job(job.id)
    job.set_state("active")  # `stale` still believes the job is inactive

    stale.set_state("complete")

    assert_placed(client, job.id, "email", "complete", 0)


def test_heals_a_zid_left_in_several_state_sets(queue, client):
    job = queue.create("email").save()
    for s in ("active", "failed"):  # what Kue's stale-object bug leaves behind
        client.zadd(f"q:jobs:{s}", {zid(job.id): 0})
        client.zadd(f"q:jobs:email:{s}", {zid(job.id): 0})

    job.set_state("complete")

    assert_placed(client, job.id, "email", "complete", 0)


def test_revokes_a_worker_claim(queue, client):
    queue.create("email").save()
    [(job_id, claim, _)] = claim_as(queue, "w1", {"email": 1})
    job = queue.get_job(job_id)

    job.set_state("active")  # the state it already has: the running worker keeps its claim
    assert client.hget("q:job:1", "pykue_claim") == claim

    job.set_state("inactive")
    assert client.hget("q:job:1", "pykue_claim") is None
    assert queue.scripts.complete_jobs(queue.client, now_ms(), [(job_id, claim, "")]).replies == [0]


def test_every_state_round_trip_keeps_one_entry_per_index(queue, client):
    job = queue.create("t").priority(3).save()
    for state in ("active", "complete", "failed", "delayed", "inactive", "failed", "active"):
        job.set_state(state)
        expected = {"active": -3}.get(state)
        if state == "delayed":
            expected = int(client.hget("q:job:1", "promote_at"))
        assert_placed(client, job.id, "t", state, 3, score=expected)
    assert client.zcard("q:jobs") == 1


def test_unknown_job_raises_and_writes_nothing(queue, client):
    job = queue.create("email").save()
    job.remove()
    before = snapshot(client)

    with pytest.raises(JobNotFoundError, match='job "1" doesnt exist'):
        job.set_state("complete")

    assert snapshot(client) == before


def test_unknown_state_is_refused_before_any_write(queue, client):
    job = queue.create("email").save()
    before = snapshot(client)

    with pytest.raises(InvalidStateError) as info:
        job.set_state("done")

    assert isinstance(info.value, ValueError)
    assert "state" in str(info.value) and "'done'" in str(info.value)
    assert snapshot(client) == before
    assert client.exists("q:jobs:done") == 0
