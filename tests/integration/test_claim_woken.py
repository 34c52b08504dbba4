"""claim_woken.lua behind a BLPOP: a worker woken by a new job claims it in the same round
trip, and the wake-up tokens stay one per inactive job whatever the BLPOP returned."""
from __future__ import annotations

import threading

import pytest

from pykue.job import now_ms
from pykue.scripts import source
from tests.helpers import wait_for

EMAIL_TOKENS = "q:email:jobs"
WAKE = "q:pykue:wake:w1"


@pytest.fixture(autouse=True)
def loaded(client):
    """The script in Redis, as after a worker's first wake-up (the first one loads it)."""
    client.script_load(source("claim_woken"))


def wait_and_claim(queue, wanted, timeout=1.0):
    return queue.scripts.wait_and_claim(queue.client, [EMAIL_TOKENS, WAKE], timeout, "w1", wanted)


def test_the_token_blpop_pops_is_followed_by_the_claim_in_the_same_call(queue, client):
    # Given three email jobs, one token each
    low = queue.create("email", {"n": 0}).priority("low").save()
    high = queue.create("email", {"n": 1}).priority("high").save()
    normal = queue.create("email", {"n": 2}).save()
    before = now_ms()
    # When a worker with two free slots waits and claims
    woken = wait_and_claim(queue, {"email": 2})
    # Then BLPOP took a token, and the claim took the two best jobs, active and fenced
    assert woken.popped_key == EMAIL_TOKENS
    assert [c.id for c in woken.claimed] == [high.id, normal.id]
    assert before <= woken.claimed_at <= now_ms() + 5  # Redis's clock at the claim, not the caller's
    for c in woken.claimed:
        stored = client.hgetall(f"q:job:{c.id}")
        assert stored["state"] == "active" and stored["pykue_claim"] == c.claim
        assert stored["workerId"] == "w1:email" and stored["started_at"] == str(woken.claimed_at)
    # And it consumed a token per job it found one for: the two left after BLPOP's
    assert woken.counts == {"email": (2, 2)}
    assert client.llen(EMAIL_TOKENS) == 0
    assert client.zrange("q:jobs:email:inactive", 0, -1) == [f"{len(str(low.id)):02d}|{low.id}"]


def test_a_timeout_with_nothing_inactive_claims_nothing_and_changes_nothing(queue, client):
    queue.create("email").delay(60_000).save()  # a job, but none inactive
    keys = sorted(client.keys("*"))
    woken = wait_and_claim(queue, {"email": 5}, timeout=0.1)
    assert woken.popped_key is None and woken.claimed == [] and woken.counts == {}
    assert sorted(client.keys("*")) == keys


def test_a_wake_key_pop_still_claims_what_is_queued(queue, client):
    # Given a job whose token went missing, and the worker's wake key pushed
    job = queue.create("email").save()
    client.delete(EMAIL_TOKENS)
    client.lpush(WAKE, 1)
    woken = wait_and_claim(queue, {"email": 1})
    assert woken.popped_key == WAKE
    assert [c.id for c in woken.claimed] == [job.id]
    assert woken.counts == {"email": (1, 0)}  # no token found, none consumed
    assert client.llen(EMAIL_TOKENS) == 0 and client.llen(WAKE) == 0


def test_after_a_script_flush_nothing_is_claimed_and_the_script_is_loaded_again(queue, client):
    job = queue.create("email").save()
    client.script_flush()
    woken = wait_and_claim(queue, {"email": 1})
    assert woken.popped_key == EMAIL_TOKENS and woken.claimed is None
    assert client.hget(f"q:job:{job.id}", "state") == "inactive"
    assert client.script_exists(queue.scripts._claim_woken.sha) == [True]


def _blocked(worker):
    with worker._cond:
        return worker._blocking_on is not None


def test_a_woken_worker_claims_without_a_round_trip_of_its_own(queue, client):
    ran = threading.Event()

    @queue.task("email")
    def send(n):
        ran.set()

    claims = []
    plain_claim = queue.scripts.claim_jobs
    queue.scripts.claim_jobs = lambda *args, **kwargs: claims.append(args) or plain_claim(*args, **kwargs)
    from pykue.worker import Worker

    worker = Worker(queue, block_timeout=5, promote_interval=0.05)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: _blocked(worker), 5, message="the worker to wait for tokens")
        claims.clear()
        # When a job arrives while the worker waits on its token
        send.delay(n=1)
        assert ran.wait(5)
        # Then the claim came with the wake-up: no claim call of its own
        assert claims == []
        assert client.llen(EMAIL_TOKENS) == 0
    finally:
        worker.stop(1)
        thread.join(10)


def test_a_burst_of_jobs_waking_a_worker_leaves_one_token_per_inactive_job(app_queue, client, workers):
    # Given an idle worker with two slots for slow jobs, waiting on their tokens
    worker = workers.start(concurrency=2, block_timeout=5, types=["slow"])
    wait_for(lambda: worker.upkeep.ticks >= 3 and _blocked(worker), 5,
             message="the worker to wait (after its start-up token reconcile)")
    # When five jobs arrive in one call: BLPOP pops one of five tokens, the claim takes two
    app_queue.tasks["slow"].delay_many([{"seconds": 2}] * 5)
    wait_for(lambda: app_queue.counts()["active"] == 2, 5, message="two slow jobs active")
    # Then the three jobs still queued have a token each: not two (one lost), not four
    wait_for(lambda: client.llen("q:slow:jobs") == 3, 2, message="three tokens")
    assert client.zcard("q:jobs:slow:inactive") == 3
