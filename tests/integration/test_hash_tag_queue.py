"""A queue whose prefix carries a Redis Cluster hash tag (``{q}``) works end to end on a plain
server, and every key it writes lands in the tag's one slot: the scripts receive their keys
in KEYS and derive the rest from the prefix, so a Cluster client could route every call."""

from __future__ import annotations

from redis.crc import key_slot

from pykue import Queue, current_job
from tests.helpers import wait_for


def test_a_hash_tagged_queue_runs_every_transition_in_one_slot(redis_server, client, workers):
    # Given a {q} queue with tasks that succeed, fail and retry after a delay, and remove themselves
    q = Queue(redis=redis_server.url, prefix="{q}", search=True)

    @q.task("double")
    def double(n):
        current_job().log("doubling %d", n).progress(1, 2)
        return n * 2

    @q.task("flaky", attempts=2, backoff={"type": "fixed", "delay": 100})
    def flaky():
        raise ValueError("not today")

    @q.task("fleeting", remove_on_complete=True)
    def fleeting():
        return None

    @q.task("note")
    def note(**data):
        return data

    try:
        done = double.delay(n=21)
        later = double.schedule(0.2, n=1)
        failing = flaky.delay()
        fleeting.delay()
        noted = q.create("note", {"title": "hello world"}).save()
        removed = q.create("double", {"n": 0}).save()
        removed.remove()
        q.create_many([("double", {"n": i}) for i in range(3, 6)])
        # When a worker runs them all (the retry and the scheduled job after their delays)
        workers.start(q)
        wait_for(
            lambda: q.counts() == {"inactive": 0, "active": 0, "complete": 6, "failed": 1, "delayed": 0},
            message=lambda: q.counts(),
        )
        # Then each job ended as it would under any prefix
        assert done.refresh().result == 42 and done.state == "complete"
        assert q.job_logs(done.id) == ["doubling 21"]
        assert later.refresh().result == 2
        assert failing.refresh().state == "failed" and failing.attempts().made == 2
        assert "not today" in failing.error
        assert q.search("hello") == [noted.id]
        keys = list(client.scan_iter())
        assert keys and all(k.startswith("{q}:") for k in keys), keys
        assert {key_slot(k.encode()) for k in keys} == {key_slot(b"{q}")}
    finally:
        q.close()
