"""progress_job.lua: progress fields, an active job's TTL deadline, and the `progress` event."""

from __future__ import annotations

import json
import time

import pytest

from pykue import InvalidJobError, JobNotFoundError
from pykue.job import now_ms
from tests.helpers import claim_as, wait_for
from tests.redis_probe import events, snapshot, zid  # noqa: F401


def progress_event(job_id, percent, data=None):
    return {"id": job_id, "event": "progress", "args": ["progress", percent, data]}


def test_progress_is_stored_and_published(queue, client, events):
    job = queue.create("email").save()
    events.collect()

    job.progress(1, 2)

    assert client.hget("q:job:1", "progress") == "50"
    assert "progress_data" not in client.hgetall("q:job:1")
    assert events.collect() == [progress_event(1, 50)]
    assert job.progress() == 50


def test_progress_data_is_stored_as_json_and_sent_in_the_event(queue, client, events):
    job = queue.create("email").save()
    events.collect()

    job.progress(1, 2, {"notifyTime": "2014-11-22"})

    assert json.loads(client.hget("q:job:1", "progress_data")) == {"notifyTime": "2014-11-22"}
    assert events.collect() == [progress_event(1, 50, {"notifyTime": "2014-11-22"})]
    assert queue.get_job(1).to_json()["progress_data"] == {"notifyTime": "2014-11-22"}


@pytest.mark.parametrize(
    "done,total,percent",
    [
        (0, 10, 0),
        (1, 3, 33),
        (2, 3, 66),
        (10, 10, 100),
        (15, 10, 100),
        (5, 0, 0),
        (50, 100, 50),
        (0.5, 1, 50),
        (0.29, 1, 28),
        (-1, 2, -50),
    ],
)
def test_percent_is_truncated_and_capped_at_100_like_kue(queue, client, done, total, percent):
    job = queue.create("email").save()

    job.progress(done, total)

    assert client.hget("q:job:1", "progress") == str(percent)


def test_updated_at_is_refreshed(queue, client):
    job = queue.create("email").save()
    client.hset("q:job:1", "updated_at", "1")

    job.progress(3, 4)

    assert int(client.hget("q:job:1", "updated_at")) > 1


def test_an_active_job_with_ttl_gets_a_new_deadline(queue, client):
    job = queue.create("email").ttl(60_000).save()
    job.active()
    client.zadd("q:jobs:active", {zid(job.id): 123456})
    before = int(time.time() * 1000)

    job.progress(1, 10)

    assert client.zscore("q:jobs:active", zid(job.id)) >= before + 60_000


def test_an_inactive_job_with_ttl_gets_no_active_entry(queue, client):
    job = queue.create("email").ttl(60_000).save()

    job.progress(1, 10)

    assert client.zscore("q:jobs:active", zid(job.id)) is None


def test_job_level_listener_gets_percent_and_data(queue):
    seen = []
    job = queue.create("email").on("progress", lambda *args: seen.append(args)).save()

    job.progress(1, 4, {"step": "one"})
    job.progress(3, 4)

    wait_for(lambda: len(seen) == 2, 5, message="two progress events")
    assert seen == [(25, {"step": "one"}), (75, None)]


def test_queue_level_listener_gets_the_id_first(queue):
    seen = []
    queue.on("job progress", lambda *args: seen.append(args))
    job = queue.create("email").save()

    job.progress(10, 100)

    wait_for(lambda: seen, 5, message="job progress")
    assert seen == [(job.id, 10, None)]


def test_a_worker_whose_claim_is_gone_writes_nothing(queue, client, events):
    job = queue.create("email").save()
    client.hset("q:job:1", "pykue_claim", "w:new")
    job.claim = "w:old"
    events.collect()
    before = snapshot(client)

    job.progress(1, 2)

    assert snapshot(client) == before
    assert events.collect() == []


def test_the_current_claim_holder_may_write(queue, client):
    queue.create("email").save()
    [(job_id, claim, _)] = claim_as(queue, "w1", {"email": 1})
    job = queue.get_job(job_id)
    job.claim = claim

    job.progress(1, 2)

    assert client.hget("q:job:1", "progress") == "50"


def test_a_claim_left_behind_when_node_kue_took_the_job_over_does_not_hold(queue, client):
    queue.create("email").save()
    [(job_id, claim, _)] = claim_as(queue, "w1", {"email": 1})
    stale = queue.get_job(job_id)
    stale.claim = claim
    # Node Kue re-activates the job: it rewrites workerId but knows nothing of pykue_claim
    client.hset("q:job:1", mapping={"workerId": "kue:hostB:42:email:1", "started_at": now_ms()})

    stale.progress(1, 2)
    assert client.hget("q:job:1", "progress") is None
    assert queue.scripts.complete_jobs(queue.client, now_ms(), [(job_id, claim, '"stale"')]).replies == [0]
    assert client.hget("q:job:1", "state") == "active"
    assert client.hget("q:job:1", "result") is None


def test_a_removed_job_is_not_recreated(queue, client, events):
    job = queue.create("email").save()
    job.remove()
    events.collect()
    before = snapshot(client)

    with pytest.raises(JobNotFoundError):
        job.progress(1, 2)

    assert snapshot(client) == before
    assert events.collect() == []


@pytest.mark.parametrize("done,total", [("1", 2), (1, None), (float("nan"), 1), (1, float("inf")), (True, 2)])
def test_non_numbers_are_refused_before_any_write(queue, client, done, total):
    job = queue.create("email").save()
    before = snapshot(client)

    with pytest.raises(InvalidJobError):
        job.progress(done, total)

    assert snapshot(client) == before


def test_unserialisable_progress_data_is_refused(queue, client):
    job = queue.create("email").save()
    before = snapshot(client)

    with pytest.raises(InvalidJobError, match="progress data"):
        job.progress(1, 2, {"when": object()})

    assert snapshot(client) == before
