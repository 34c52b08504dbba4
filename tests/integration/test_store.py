"""store.py and worker_store.py: the queue's reads and writes, and the worker's side of them
(claims, reports, upkeep), with the same effects as the script calls they wrap."""

from __future__ import annotations

import pytest

from pykue.job import now_ms
from pykue.replies import ReplyCode, parse_completion
from pykue.worker_store import Failure

WID = "pykue:host:1:abcdef"


@pytest.fixture
def store(queue):
    store = queue.store.for_worker()
    store.renew_lease(WID, now_ms(), 60_000)  # a live worker's: claims need it
    return store


def test_the_queue_store_reads_what_jobs_wrote(queue, client):
    a = queue.create("email", {"n": 1}).save()
    queue.create("sms").delay(60_000).save()
    assert queue.store.job_fields(a.id)["type"] == "email"
    assert [f.get("type") for f in queue.store.jobs_fields([a.id, 99])] == ["email", None]
    assert queue.store.counts() == {"inactive": 1, "active": 0, "complete": 0, "failed": 0, "delayed": 1}
    assert queue.store.count("inactive", "email") == 1
    assert queue.store.ranked_ids(0, -1) == [1, 2]
    assert queue.store.ranked_ids(0, -1, "delayed", "sms") == [2]
    assert queue.store.types() == {"email", "sms"}
    assert queue.store.log_job(a.id, "hi", now_ms()) is ReplyCode.DONE
    assert queue.store.log_job(99, "hi", now_ms()) is ReplyCode.NOT_FOUND
    assert queue.store.progress_job(99, 5, "", now_ms()) is ReplyCode.NOT_FOUND
    assert queue.store.set_priority(99, 1, now_ms()) is False
    assert queue.store.job_logs(a.id) == ["hi"]


def test_a_claim_completed_and_refilled_through_the_worker_store(queue, store, client):
    first, second = queue.create("email").save(), queue.create("email").save()
    [claimed] = store.claim_jobs(now_ms(), WID, {"email": 1}).claimed
    assert claimed.id == first.id and client.hget(f"q:job:{first.id}", "state") == "active"
    completion = store.complete_jobs(now_ms(), [(claimed.id, claimed.claim, '"ok"')], WID, {"email": 1})
    assert completion.replies == [ReplyCode.DONE]
    assert [c.id for c in completion.claimed] == [second.id]
    stale = store.complete_jobs(now_ms(), [(claimed.id, claimed.claim, '"again"')])
    assert stale.replies == [ReplyCode.CLAIM_LOST]


def test_completions_in_flight_on_a_held_connection(queue, store):
    jobs = [queue.create("email").save() for _ in range(4)]
    claimed = store.claim_jobs(now_ms(), WID, {"email": 4}).claimed
    line = store.calls_in_flight()
    try:
        for batch in (claimed[:2], claimed[2:]):
            line.send(
                lambda conn, health, batch=batch: store.send_complete_jobs(
                    conn, now_ms(), [(c.id, c.claim, "") for c in batch], "", {}, now_ms(), check_health=health
                )
            )
        replies = [parse_completion(line.receive()).replies, parse_completion(line.receive()).replies]
    finally:
        line.close()
    assert replies == [[1, 1], [1, 1]]
    assert queue.count("complete") == len(jobs)


def test_failures_and_successes_in_one_round_trip(queue, store, client):
    ok, bad = queue.create("email").save(), queue.create("email").attempts(2).save()
    a, b = store.claim_jobs(now_ms(), WID, {"email": 2}).claimed
    failure = Failure(b.id, b.claim, now_ms(), "Error: no", "Error: no", '"no"', 0)
    completion, fail_replies = store.complete_and_fail(now_ms(), [(a.id, a.claim, "")], [failure])
    assert completion.replies == [1] and fail_replies == [2]  # one attempt left: requeued at once
    assert client.hget(f"q:job:{bad.id}", "state") == "inactive"
    assert store.fail_job(failure) == ReplyCode.CLAIM_LOST
    assert store.release_job(ok.id, a.claim, now_ms(), "line") is False


def test_upkeep_wake_ups_and_tokens(queue, store, client):
    queue.create("email").delay(1).save()
    queue.pause("sms")
    tick = store.tick(now_ms() + 10, 100, WID, 5_000, True, ["email"])
    assert tick.promoted == 1 and tick.paused == {"sms"}
    assert client.pttl(queue.keys.worker_lease(WID)) > 0
    assert client.llen("q:email:jobs") == 1
    store.give_back_tokens("email", 2)
    assert client.llen("q:email:jobs") == 3
    store.wake(WID)
    assert client.llen(queue.keys.wake(WID)) == 2
    woken = store.wait_and_claim(["sms"], 0.1, WID, 0, {"sms": 1})
    assert woken.popped_key == queue.keys.wake(WID) and woken.claimed == [] and woken.claimed_at == -1
    [(job_id, claim, _)] = store.claim_jobs(now_ms(), WID, {"email": 1}).claimed
    assert store.claims([job_id, 99]) == [claim, None]
    assert store.job_fields(job_id)["pykue_claim"] == claim
    store.forget_worker(WID)
    assert client.exists(queue.keys.worker_lease(WID), queue.keys.wake(WID)) == 0
    seconds, micros = store.redis_time()
    assert abs(seconds * 1000 + micros // 1000 - now_ms()) < 5_000
    assert store.calls_in_flight().possible and store.pool is queue.client.connection_pool
