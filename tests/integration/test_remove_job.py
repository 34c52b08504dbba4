"""remove_job.lua: the hash, the log, every index entry and the search entries go, then `remove`."""

from __future__ import annotations

import pytest

from pykue import JobNotFoundError, Queue
from tests.redis_probe import STATES, events, snapshot, tokens, zid  # noqa: F401


def job_keys(client) -> set[str]:
    return {k for k in client.scan_iter() if k.startswith("q:job:") and k != "q:job:types"}


@pytest.mark.parametrize("state", STATES)
def test_removing_a_job_in_any_state_leaves_no_trace(queue, client, events, state):
    job = queue.create("email", {"to": "x"}).save()
    keep = queue.create("email").save()
    job.log("a line")
    job.set_state(state)
    events.collect()

    job.remove()

    assert job_keys(client) == {f"q:job:{keep.id}"}
    for s in STATES:
        assert client.zscore(f"q:jobs:{s}", zid(job.id)) is None
        assert client.zscore(f"q:jobs:email:{s}", zid(job.id)) is None
    assert client.zscore("q:jobs", zid(job.id)) is None
    assert client.zscore("q:jobs", zid(keep.id)) == 0
    assert client.smembers("q:job:types") == {"email"}  # Kue never prunes job:types
    assert events.collect() == [{"id": job.id, "event": "remove", "args": ["remove", "email"]}]


def test_tokens_are_left_alone_as_in_kue(queue, client):
    job = queue.create("email").save()

    job.remove()

    assert tokens(client, "email") == ["1"]  # a surplus token only causes an empty pop


def test_a_stale_object_cannot_leak_zids(queue, client):
    job = queue.create("email").save()
    stale = queue.get_job(job.id)
    job.set_state("failed")

    stale.remove()

    assert client.zscore("q:jobs:failed", zid(job.id)) is None
    assert client.zscore("q:jobs:email:failed", zid(job.id)) is None
    assert client.exists("q:job:1") == 0


def test_removes_zids_an_inconsistent_index_holds_in_other_states(queue, client):
    job = queue.create("email").save()
    client.zadd("q:jobs:complete", {zid(job.id): 0})
    client.zadd("q:jobs:email:active", {zid(job.id): 0})

    queue.get_job(job.id).remove()

    assert not [k for k in client.scan_iter("q:jobs*") if client.zscore(k, zid(job.id)) is not None]


def test_a_removed_claimed_job_leaves_no_claim_behind(queue, client):
    job = queue.create("email").save()
    client.hset("q:job:1", "pykue_claim", "w/0/1")

    job.remove()

    assert client.exists("q:job:1") == 0
    assert not [k for k in client.keys("q:pykue:*")]


def test_removing_twice_raises_and_publishes_nothing(queue, client, events):
    job = queue.create("email").save()
    job.remove()
    events.collect()
    before = snapshot(client)

    with pytest.raises(JobNotFoundError, match='job "1" doesnt exist'):
        job.remove()

    assert snapshot(client) == before
    assert events.collect() == []


def test_queue_level_remove_event(queue):
    seen = []
    queue.on("job remove", lambda *args: seen.append(args))
    job = queue.create("email").save()

    job.remove()

    from tests.helpers import wait_for

    wait_for(lambda: seen, 5, message="job remove")
    assert seen == [(job.id, "email")]


def test_search_entries_are_removed(redis_server, client):
    q = Queue(redis=redis_server.url, prefix="q", search=True)
    try:
        gone = q.create("email", {"title": "hello world"}).save()
        kept = q.create("email", {"title": "hello there"}).save()

        gone.remove()

        assert client.exists("q:search:object:1") == 0
        for key in client.scan_iter("q:search:*"):
            members = client.zrange(key, 0, -1)
            assert str(gone.id) not in members, key
            assert "world" not in members
        assert client.exists("q:search:word:world") == 0
        assert q.search("hello") == [kept.id]
        assert q.search("world") == []
    finally:
        q.close()
