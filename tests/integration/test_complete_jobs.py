"""complete_jobs.lua: fenced completion, and the refill a worker's finisher asks for in the
same call (the slots it frees are claimed again without a round trip of their own)."""

from __future__ import annotations

from pykue.job import now_ms
from tests.helpers import claim_as, wait_for


def claim_one(queue, worker_id="w1", job_type="email"):
    [claimed] = claim_as(queue, worker_id, {job_type: 1})
    return claimed


def test_completing_refills_the_freed_slots_by_priority_in_the_same_call(queue, client):
    # Given an email job claimed by worker w1, then three more queued
    first = queue.create("email", {"n": 0}).save()
    job_id, claim, _ = claim_one(queue)
    low = queue.create("email", {"n": 1}).priority("low").save()
    high = queue.create("email", {"n": 2}).priority("high").save()
    normal = queue.create("email", {"n": 3}).save()
    assert job_id == first.id and client.llen("q:email:jobs") == 3
    events = client.pubsub()
    events.subscribe("q:events")
    events.get_message(timeout=1)
    # When w1 completes it and asks for two more in the same call
    claimed_at = now_ms() + 5
    completion = queue.scripts.complete_jobs(
        queue.client, now_ms(), [(job_id, claim, '"ok"')], "w1", {"email": 2}, claimed_at
    )
    # Then the job is complete and the two best of the rest are w1's, active, fenced
    assert completion.replies == [1]
    assert client.hget(f"q:job:{first.id}", "state") == "complete"
    assert [c.id for c in completion.claimed] == [high.id, normal.id]
    for c in completion.claimed:
        stored = client.hgetall(f"q:job:{c.id}")
        assert stored["state"] == "active" and stored["pykue_claim"] == c.claim
        assert stored["workerId"] == "w1:email" and stored["started_at"] == str(claimed_at)
        assert c.fields["state"] == "inactive" and c.fields["data"] == stored["data"]  # the hash as it was
    assert client.zrange("q:jobs:email:inactive", 0, -1) == [f"{len(str(low.id)):02d}|{low.id}"]
    assert client.llen("q:email:jobs") == 1  # one wake-up token per job claimed
    # And Kue's events came in order: complete, then start for each claimed job
    seen = []
    while (message := events.get_message(timeout=1)) is not None:
        if message["type"] == "message":
            seen.append(message["data"])
    assert [m.split('"event":"')[1].split('"')[0] for m in seen] == ["complete", "start", "start"]
    events.close()


def test_a_refill_takes_only_what_there_is(queue, client):
    queue.create("email").save()
    queue.create("email").save()
    job_id, claim, _ = claim_one(queue)
    completion = queue.scripts.complete_jobs(queue.client, now_ms(), [(job_id, claim, "")], "w1", {"email": 5})
    assert len(completion.claimed) == 1
    assert client.llen("q:email:jobs") == 0
    assert queue.counts()["inactive"] == 0


def test_without_a_worker_id_nothing_is_claimed(queue, client):
    queue.create("email").save()
    queue.create("email").save()
    job_id, claim, _ = claim_one(queue)
    completion = queue.scripts.complete_jobs(queue.client, now_ms(), [(job_id, claim, "")], "", {"email": 5})
    assert completion.replies == [1] and completion.claimed == []
    assert queue.counts()["inactive"] == 1 and client.llen("q:email:jobs") == 1


def test_a_stale_claim_neither_completes_nor_blocks_the_refill(queue, client):
    queue.create("email").save()
    queue.create("email").save()
    job_id, claim, _ = claim_one(queue)
    client.hset(f"q:job:{job_id}", "pykue_claim", "someone-else/0/1")
    completion = queue.scripts.complete_jobs(queue.client, now_ms(), [(job_id, claim, "")], "w1", {"email": 1})
    assert completion.replies == [0]
    assert client.hget(f"q:job:{job_id}", "state") == "active"
    assert len(completion.claimed) == 1


def test_a_busy_worker_refills_no_slot_of_a_type_paused_meanwhile(app_queue, client, workers):
    # Given six slow jobs (concurrency 3), the first three long, and a worker running those
    slow = app_queue.tasks["slow"]
    jobs = [slow.delay(seconds=s) for s in (3.0, 3.0, 3.0, 0.1, 0.1, 0.1)]
    worker = workers.start()
    wait_for(lambda: client.get("wt:running:slow") == "3", 5, message="three slow jobs running")
    # When slow is paused while they run
    app_queue.pause("slow")
    wait_for(lambda: "slow" in worker.paused, 2, message="the worker to see the pause")
    # Then the three finish and none of the other three is taken
    wait_for(lambda: app_queue.complete_count("slow") == 3, 10, message="three completions")
    wait_for(lambda: not worker.running, 2, message="the worker to release them")
    assert sorted(j.refresh().state for j in jobs) == ["complete"] * 3 + ["inactive"] * 3
    assert client.llen("q:slow:jobs") == 3
    # And after a resume the rest run, never more than three at once
    app_queue.resume("slow")
    wait_for(lambda: app_queue.complete_count("slow") == 6, 10, message="all six completions")
    assert client.get("wt:peak:slow") == "3"


def test_a_claim_that_meets_a_job_whose_hash_moved_on_drops_it_from_both_inactive_indexes(queue, client):
    # Given what a stale Node Kue Job leaves: a job complete in its hash, still in the inactive sets
    stale = queue.create("email", {"n": 1}).save()
    member = f"{len(str(stale.id)):02d}|{stale.id}"
    client.hset(f"q:job:{stale.id}", "state", "complete")
    client.zadd("q:jobs:complete", {member: 0})
    client.zadd("q:jobs:email:complete", {member: 0})
    good = queue.create("email", {"n": 2}).save()
    # When a worker claims
    [(job_id, _, _)] = claim_as(queue, "w1", {"email": 2})
    # Then it took the good job, and the complete one is counted as complete only
    assert job_id == good.id
    assert client.zscore("q:jobs:inactive", member) is None
    assert client.zscore("q:jobs:email:inactive", member) is None
    assert queue.counts()["inactive"] == 0 and client.zscore("q:jobs:complete", member) == 0
