"""Nothing is claimed for a worker without a lease (issue 14 item 3): claim_jobs.lua,
claim_woken.lua and complete_jobs.lua's refill answer NO_LEASE and change nothing, while a
worker holding its lease claims as before; a worker told so renews its lease and claims."""

from __future__ import annotations

import logging
import threading

import pytest

from pykue.job import now_ms
from pykue.replies import ReplyCode
from pykue.scripts import source
from pykue.worker import Worker
from tests.helpers import flush_scripts, lease, wait_for
from tests.redis_probe import snapshot

WID = "pykue:host:1:abcdef"
TOKENS = "q:email:jobs"


def claim(queue, wanted):
    return queue.scripts.claim_jobs(queue.client, now_ms(), WID, wanted)


def wait_and_claim(queue, wanted):
    wake = queue.keys.wake(WID)
    return queue.scripts.wait_and_claim(queue.client, [TOKENS, wake], 1.0, WID, wake, 0, wanted)


def test_claim_jobs_claims_nothing_for_a_worker_without_a_lease(queue, client):
    queue.create("email").save()
    before = snapshot(client)
    claims = claim(queue, {"email": 1})
    assert claims.status is ReplyCode.NO_LEASE and claims.claimed == []
    assert snapshot(client) == before  # the job inactive, its token kept


def test_claim_jobs_claims_as_before_for_a_worker_holding_its_lease(queue, client):
    job = queue.create("email").save()
    lease(queue, WID)
    claims = claim(queue, {"email": 1})
    assert claims.status is ReplyCode.DONE and [c.id for c in claims.claimed] == [job.id]
    assert client.hget(f"q:job:{job.id}", "state") == "active" and client.llen(TOKENS) == 0


def test_a_lease_that_expired_counts_as_none(queue, client):
    queue.create("email").save()
    client.set(queue.keys.worker_lease(WID), 1, px=1)
    wait_for(lambda: not client.exists(queue.keys.worker_lease(WID)), 2, message="the lease to expire")
    assert claim(queue, {"email": 1}).status is ReplyCode.NO_LEASE
    assert queue.counts()["inactive"] == 1


def test_the_claim_behind_a_blpop_claims_nothing_for_a_worker_without_a_lease(queue, client):
    # Given a job and its token, and a worker with no lease (frozen past it) waiting on the token
    client.script_load(source("claim_woken"))
    job = queue.create("email").save()
    # When its BLPOP is served and the claim behind it runs
    woken = wait_and_claim(queue, {"email": 2})
    # Then BLPOP took the token (the worker owes it back) and nothing was claimed
    assert woken.popped_key == TOKENS and woken.error is None
    assert woken.status is ReplyCode.NO_LEASE and woken.claimed == [] and woken.counts == {}
    assert client.hget(f"q:job:{job.id}", "state") == "inactive" and client.llen(TOKENS) == 0
    # And with its lease, the same wait claims the job
    client.lpush(TOKENS, 1)
    lease(queue, WID)
    woken = wait_and_claim(queue, {"email": 2})
    assert woken.status is ReplyCode.DONE and [c.id for c in woken.claimed] == [job.id]


def test_a_refill_claims_nothing_for_a_worker_without_a_lease_but_the_completion_holds(queue, client):
    # Given a job claimed by a worker that then lost its lease (nobody recovered the job), and another queued
    first = queue.create("email").save()
    lease(queue, WID)
    [held] = claim(queue, {"email": 1}).claimed
    second = queue.create("email").save()
    client.delete(queue.keys.worker_lease(WID))
    # When the worker completes it and asks for a refill
    completion = queue.scripts.complete_jobs(queue.client, now_ms(), [(held.id, held.claim, "")], WID, {"email": 1})
    # Then its claim still held: the job is complete; but nothing was claimed for it
    assert completion.replies == [ReplyCode.DONE] and client.hget(f"q:job:{first.id}", "state") == "complete"
    assert completion.refill_status is ReplyCode.NO_LEASE and completion.claimed == []
    assert client.hget(f"q:job:{second.id}", "state") == "inactive" and client.llen(TOKENS) == 1
    # And once it holds its lease again, the refill claims as before
    lease(queue, WID)
    third = queue.create("email").save()
    [now_held] = claim(queue, {"email": 1}).claimed
    completion = queue.scripts.complete_jobs(
        queue.client, now_ms(), [(now_held.id, now_held.claim, "")], WID, {"email": 1}
    )
    assert completion.refill_status is ReplyCode.DONE and [c.id for c in completion.claimed] == [third.id]


def test_a_completion_without_refill_needs_no_lease(queue, client):
    queue.create("email").save()
    lease(queue, WID)
    [held] = claim(queue, {"email": 1}).claimed
    client.delete(queue.keys.worker_lease(WID))
    completion = queue.scripts.complete_jobs(queue.client, now_ms(), [(held.id, held.claim, "")])
    assert completion.replies == [ReplyCode.DONE] and completion.refill_status is ReplyCode.DONE


@pytest.mark.parametrize("waiting", [True, False], ids=["woken", "claiming"])
def test_a_worker_that_lost_its_lease_renews_it_and_runs_the_job(queue, client, caplog, waiting):
    # Given a worker whose upkeep ticks rarely, waiting for jobs; its lease then gone (as after a freeze)
    ran = []

    @queue.task("email", attempts=1)
    def send(n):
        ran.append(n)

    worker = Worker(queue, promote_interval=10, stalled_timeout=30, block_timeout=5)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: worker.slots.fetch_blocked, 5, message="the worker to wait for tokens")
        if not waiting:  # its claim script gone: the wake-up claims through claim_jobs.lua
            flush_scripts(client)
        client.delete(queue.keys.worker_lease(worker.id))
        caplog.set_level(logging.WARNING, "pykue.worker")
        # When a job comes
        job = send.delay(n=1)
        # Then the claim for it is refused, the worker renews its lease at once, claims and runs it
        assert job.wait(5) is None and ran == [1]
        assert client.pttl(queue.keys.worker_lease(worker.id)) > 20_000
        assert "lost its lease" in caplog.text
        stored = client.hgetall(f"q:job:{job.id}")
        assert (stored["state"], stored["attempts"]) == ("complete", "1") and "pykue_stalls" not in stored
        # And the token its BLPOP took was given back or used: none is left, none missing
        wait_for(lambda: worker.slots.fetch_blocked, 5, message="the worker to wait again")
        assert client.llen(TOKENS) == 0 and queue.counts()["inactive"] == 0
    finally:
        worker.stop(1)
        thread.join(10)


def test_the_upkeep_tick_says_when_it_found_the_lease_gone(queue, client):
    store = queue.store.for_worker()
    tick = store.tick(now_ms(), 100, WID, 5_000, False, [])
    assert tick.lease_lapsed and client.pttl(queue.keys.worker_lease(WID)) > 0  # missing: lapsed, renewed
    assert not store.tick(now_ms(), 100, WID, 5_000, False, []).lease_lapsed


def test_a_worker_whose_lease_lapsed_with_no_claim_refused_says_so_once(queue, client, caplog):
    # Given an idle worker (nothing to claim, so no claim of its is ever refused), ticking often
    @queue.task("email")
    def send():
        pass

    worker = Worker(queue, promote_interval=0.05, stalled_timeout=30, block_timeout=5)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(lambda: worker.slots.fetch_blocked, 5, message="the worker to wait for tokens")
        caplog.set_level(logging.WARNING, "pykue.worker")
        # When its lease is gone (as after a freeze the upkeep's renewal outran every claim)
        client.delete(queue.keys.worker_lease(worker.id))
        # Then its next tick renews it and says the lease had lapsed, once
        wait_for(lambda: "lost its lease" in caplog.text, 5, message="the lapse to be reported")
        ticks = worker.upkeep.ticks
        wait_for(lambda: worker.upkeep.ticks >= ticks + 3, 5, message="three more ticks")
        assert caplog.text.count("lost its lease") == 1
        assert client.pttl(queue.keys.worker_lease(worker.id)) > 20_000
    finally:
        worker.stop(1)
        thread.join(10)
