"""claim_woken.lua behind a BLPOP: a worker woken by a new job claims it in the same round
trip, and the wake-up tokens stay one per inactive job whatever the BLPOP returned."""

from __future__ import annotations

import threading

import pytest
import redis

import pykue
from pykue.job import now_ms
from pykue.worker import Worker
from tests.helpers import flush_scripts, is_loaded, wait_for

EMAIL_TOKENS = "q:email:jobs"
WAKE = "q:pykue:wake:w1"


@pytest.fixture(autouse=True)
def loaded(queue, client):
    """The script in Redis, as a worker loads it when it starts, and w1's lease."""
    queue.scripts.load_worker_scripts(client)
    client.set("q:pykue:worker:w1", 1, px=60_000)


def wait_and_claim(queue, wanted, timeout=1.0, offset_ms=0, keys=(EMAIL_TOKENS, WAKE)):
    return queue.scripts.wait_and_claim(queue.client, list(keys), timeout, "w1", WAKE, offset_ms, wanted)


def test_the_token_blpop_pops_is_followed_by_the_claim_in_the_same_call(queue, client):
    # Given three email jobs, one token each
    low = queue.create("email", {"n": 0}).priority("low").save()
    high = queue.create("email", {"n": 1}).priority("high").save()
    normal = queue.create("email", {"n": 2}).save()
    before = now_ms()
    # When a worker with two free slots waits and claims
    woken = wait_and_claim(queue, {"email": 2})
    # Then BLPOP took a token, and the claim took the two best jobs, active and fenced
    assert woken.popped_key == EMAIL_TOKENS and woken.error is None
    assert [c.id for c in woken.claimed] == [high.id, normal.id]
    assert before - 50 <= woken.claimed_at <= now_ms() + 50  # Redis's clock, same host
    for c in woken.claimed:
        stored = client.hgetall(f"q:job:{c.id}")
        assert stored["state"] == "active" and stored["pykue_claim"] == c.claim
        assert stored["workerId"] == "w1:email" and stored["started_at"] == str(woken.claimed_at)
    # And it consumed a token per job it found one for: the two left after BLPOP's
    assert woken.counts == {"email": (2, 2)}
    assert client.llen(EMAIL_TOKENS) == 0
    assert client.zrange("q:jobs:email:inactive", 0, -1) == [f"{len(str(low.id)):02d}|{low.id}"]


def test_the_claim_is_timed_in_the_workers_clock(queue, client):
    queue.create("email").save()
    woken = wait_and_claim(queue, {"email": 1}, offset_ms=3_600_000)  # a worker an hour ahead
    assert abs(woken.claimed_at - (now_ms() + 3_600_000)) < 1000
    assert client.hget(f"q:job:{woken.claimed[0].id}", "started_at") == str(woken.claimed_at)


def test_a_timeout_with_nothing_inactive_claims_nothing_and_changes_nothing(queue, client):
    queue.create("email").delay(60_000).save()  # a job, but none inactive
    keys = sorted(client.keys("*"))
    woken = wait_and_claim(queue, {"email": 5}, timeout=0.1)
    assert woken.popped_key is None and woken.claimed == [] and woken.counts == {}
    assert sorted(client.keys("*")) == keys


def test_a_wait_costs_little_while_only_other_types_have_jobs_queued(queue, client):
    queue.create("sms").save()  # a backlog this worker does not take
    client.config_resetstat()
    woken = wait_and_claim(queue, {"email": 5, "push": 5}, timeout=0.1)
    assert woken.claimed == [] and client.llen("q:sms:jobs") == 1
    ran = {name.split("_", 1)[1] for name in client.info("commandstats")}
    assert "zpopmin" not in ran and "time" not in ran  # stopped at one EXISTS


def test_the_workers_own_wake_up_claims_nothing(queue, client):
    # Given a job whose token another client took, and the worker woken by itself (two elements)
    job = queue.create("email").save()
    client.delete(EMAIL_TOKENS)
    client.lpush(WAKE, 1, 1)
    woken = wait_and_claim(queue, {"email": 1})
    # Then the claim stood aside: the worker's wanted types may have changed
    assert woken.popped_key == WAKE and woken.claimed == [] and woken.claimed_at == -1
    assert client.hget(f"q:job:{job.id}", "state") == "inactive"
    assert not client.exists(WAKE)


def test_a_failing_blpop_still_hands_over_what_the_claim_behind_it_took(queue, client):
    job = queue.create("email").save()
    client.set("q:bad", "not a list")
    woken = wait_and_claim(queue, {"email": 1}, keys=("q:bad", EMAIL_TOKENS, WAKE))
    assert isinstance(woken.error, redis.ResponseError) and "WRONGTYPE" in str(woken.error)
    assert woken.popped_key is None
    assert [c.id for c in woken.claimed] == [job.id]


def test_after_a_script_flush_nothing_is_claimed_and_the_script_is_loaded_again(queue, client):
    job = queue.create("email").save()
    flush_scripts(client)
    woken = wait_and_claim(queue, {"email": 1})
    assert woken.popped_key == EMAIL_TOKENS and woken.claimed is None and woken.error is None
    assert client.hget(f"q:job:{job.id}", "state") == "inactive"
    assert is_loaded(client, queue.scripts._claim_woken)


def _blocked(worker):
    return worker.slots.fetch_blocked


@pytest.fixture
def email_worker(queue):
    """A worker for an email task that records what it ran, blocked on its tokens once started."""
    ran = []
    pause_now = threading.Event()

    @queue.task("email", concurrency=2)
    def send(n, seconds=0.0):
        ran.append(n)
        if n == "pauser":
            pause_now.wait(5)
            pykue.current_job().ctx.pause()
        threading.Event().wait(seconds)

    started = []

    def start(**options):
        options.setdefault("block_timeout", 5)
        worker = Worker(queue, promote_interval=0.05, **options)
        thread = threading.Thread(target=worker.run)
        thread.start()
        started.append((worker, thread))
        wait_for(lambda: _blocked(worker), 5, message="the worker to wait for tokens")
        return worker

    start.ran, start.task, start.pause_now = ran, send, pause_now
    yield start
    for worker, thread in started:
        worker.stop(1)
        thread.join(10)
        assert not thread.is_alive()


def test_a_woken_worker_claims_without_a_round_trip_of_its_own(queue, client, email_worker):
    claims = []
    plain_claim = queue.scripts.claim_jobs
    queue.scripts.claim_jobs = lambda *args, **kwargs: claims.append(args) or plain_claim(*args, **kwargs)
    email_worker()
    claims.clear()  # the claim at start, before the worker first waited
    # When a job arrives while the worker waits on its token
    job = email_worker.task.delay(n=1)
    job.wait(5)
    # Then the claim came with the wake-up: no claim call of its own, no token left
    assert claims == []
    assert client.llen(EMAIL_TOKENS) == 0


def test_after_a_script_flush_a_woken_worker_still_runs_the_job(queue, client, email_worker):
    email_worker()
    flush_scripts(client)
    email_worker.task.delay(n=1).wait(5)
    assert client.llen(EMAIL_TOKENS) == 0 and email_worker.ran == [1]


def test_a_job_that_takes_the_last_token_leaves_none(queue, client, email_worker):
    email_worker()
    email_worker.task.delay_many([{"n": 1}, {"n": 2}])  # two slots, two jobs: both claimed
    wait_for(lambda: sorted(email_worker.ran) == [1, 2], 5, message="both jobs")
    assert client.llen(EMAIL_TOKENS) == 0 and queue.counts()["inactive"] == 0


def test_a_stale_token_wakes_the_worker_and_is_used_up(queue, client, email_worker):
    email_worker()
    client.lpush(EMAIL_TOKENS, 1)  # a token without a job (Kue leaves some behind)
    wait_for(lambda: client.llen(EMAIL_TOKENS) == 0, 5, message="the stale token to be taken")
    email_worker.task.delay(n=1).wait(5)  # and the worker still waits and runs what comes
    assert client.llen(EMAIL_TOKENS) == 0


def test_a_stop_landing_while_a_claim_is_out_requeues_what_it_took(queue, client, email_worker):
    # Given a waiting worker whose claim script was flushed (so it claims with claim_jobs),
    # and a stop that lands while that claim is out
    worker = email_worker()
    flush_scripts(client)
    plain_claim = queue.scripts.claim_jobs

    def claim_then_stop(*args):
        claimed = plain_claim(*args)
        worker.stop(1)
        return claimed

    queue.scripts.claim_jobs = claim_then_stop
    job = email_worker.task.delay(n=1)
    assert worker.join(10)
    # Then the job was requeued untouched, not run: no attempt spent
    stored = client.hgetall(f"q:job:{job.id}")
    assert stored["state"] == "inactive" and stored.get("attempts", "0") == "0"
    assert "requeued" in client.lrange(f"q:job:{job.id}:log", 0, -1)[0]
    assert email_worker.ran == [] and client.llen(EMAIL_TOKENS) == 1


def _hold_the_next_token(redis_server, client):
    """A Node Kue worker's BLPOP, blocked before ours: Redis hands it the next token."""
    other = redis.Redis(port=redis_server.port, decode_responses=True)
    got = []

    def pop():
        got.append(other.blpop([EMAIL_TOKENS], timeout=10))
        other.close()

    thread = threading.Thread(target=pop)
    thread.start()
    wait_for(lambda: any(c["cmd"] == "blpop" for c in client.client_list()), 5, message="the other BLPOP to block")
    return thread, got


def test_stopping_a_waiting_worker_claims_nothing(queue, client, redis_server, email_worker):
    # Given another worker holding the token of an inactive job, and ours waiting
    thread, got = _hold_the_next_token(redis_server, client)
    worker = email_worker()
    job = email_worker.task.delay(n=1)
    thread.join(5)
    assert got and client.llen(EMAIL_TOKENS) == 0
    # When our worker is stopped: its wake-up must not claim on the way out
    worker.stop(1)
    assert worker.join(5)
    stored = client.hgetall(f"q:job:{job.id}")
    assert stored["state"] == "inactive" and "workerId" not in stored
    assert client.lrange(f"q:job:{job.id}:log", 0, -1) == []


def test_a_type_paused_by_its_own_task_takes_no_new_job(queue, client, email_worker):
    # Given a running job that pauses its type in this process while the worker waits on the
    # type's tokens for its second slot
    worker = email_worker()
    pauser = email_worker.task.delay(n="pauser", seconds=1.0)
    wait_for(lambda: email_worker.ran == ["pauser"] and _blocked(worker), 5, message="the worker to wait again")
    email_worker.pause_now.set()
    wait_for(lambda: "email" in worker.locally_paused, 5, message="the local pause")
    # When another email job arrives, and the pauser ends
    job = email_worker.task.delay(n=2)
    pauser.wait(5)
    # Then the new job was never taken: it waits with its token, as the pause asks
    stored = client.hgetall(f"q:job:{job.id}")
    assert stored["state"] == "inactive" and "workerId" not in stored
    assert client.lrange(f"q:job:{job.id}:log", 0, -1) == []  # not even claimed and given back
    assert client.llen(EMAIL_TOKENS) == 1
    assert email_worker.ran == ["pauser"]


def test_a_burst_of_jobs_waking_a_worker_leaves_one_token_per_inactive_job(app_queue, client, workers):
    # Given an idle worker with two slots for slow jobs, waiting on their tokens
    worker = workers.start(concurrency=2, block_timeout=5, types=["slow"])
    wait_for(
        lambda: worker.upkeep.ticks >= 3 and _blocked(worker),
        5,
        message="the worker to wait (after its start-up token reconcile)",
    )
    # When five jobs arrive in one call: BLPOP pops one of five tokens, the claim takes two
    app_queue.tasks["slow"].delay_many([{"seconds": 2}] * 5)
    wait_for(lambda: app_queue.counts()["active"] == 2, 5, message="two slow jobs active")
    # Then the three jobs still queued have a token each: not two (one lost), not four
    wait_for(lambda: client.llen("q:slow:jobs") == 3, 2, message="three tokens")
    assert client.zcard("q:jobs:slow:inactive") == 3
