"""A frozen worker (SIGSTOP, a long GC pause) must not re-claim the jobs recovered from it
(issue 14 item 3): the other worker's upkeep requeues them, which serves the frozen worker's
pending BLPOP, and the claim queued behind it on the server runs for a worker that cannot run
anything; its jobs would stall a second time and fail. Real ``pykue worker`` processes."""

from __future__ import annotations

import signal
import time

from tests.helpers import wait_for

STALLED = "Stalled: the worker running this job stopped (no heartbeat); requeued"
# The smallest stalled timeout that leaves a margin: the frozen worker's BLPOP (2 s) must
# still be pending when its lease (0.8 of it) has expired and the other worker's upkeep
# (every 0.1 s) requeues its jobs.
OPTIONS = ("--stalled-timeout", "1")


def worker_id_of(client, pid):
    """The id of worker process ``pid``, read from its lease key."""
    [key] = [k for k in client.scan_iter("q:pykue:worker:*") if f":{pid}:" in k]
    return key.removeprefix("q:pykue:worker:")


def blocked_clients(client):
    return client.info("clients")["blocked_clients"]


def test_a_frozen_worker_does_not_reclaim_the_jobs_recovered_from_it(app_queue, client, spawn_worker):
    # Given worker A (slow jobs, 4 slots) and worker B (echo only: it just recovers A's jobs)
    a = spawn_worker("--types", "slow", "--concurrency", "4", *OPTIONS, promote_interval="0.1")
    b = spawn_worker("--types", "echo", *OPTIONS, promote_interval="0.1")
    # And A running two slow jobs (1 attempt each), waiting in BLPOP for more
    jobs = [app_queue.tasks["slow"].delay(seconds=2.0) for _ in range(2)]
    wait_for(lambda: client.get("wt:running:slow") == "2", 10, message="A running both jobs")
    assert [client.hget(f"q:job:{j.id}", "max_attempts") for j in jobs] == ["1", "1"]
    wake = f"q:pykue:wake:{worker_id_of(client, a.pid)}"
    client.lpush(wake, 1, 1)  # a fresh BLPOP, its full 2 s ahead (as a freed slot would wake it)
    wait_for(lambda: not client.exists(wake) and blocked_clients(client) == 2, 5, message="A and B in BLPOP")
    # When A is frozen until B's upkeep has requeued its jobs, and a while longer
    a.signal(signal.SIGSTOP)
    try:
        wait_for(
            lambda: all(client.hget(f"q:job:{j.id}", "pykue_stalls") for j in jobs),
            10,
            message=lambda: f"B to requeue A's jobs: {[client.hgetall(f'q:job:{j.id}') for j in jobs]}",
        )
        time.sleep(1.0)  # ten of B's ticks, each looking for stalled jobs
        # Then nothing was claimed for frozen A: its jobs wait, one token left (A's BLPOP took one)
        states = [client.hget(f"q:job:{j.id}", "state") for j in jobs]
        assert states == ["inactive", "inactive"], [client.hgetall(f"q:job:{j.id}") for j in jobs]
        assert client.llen("q:slow:jobs") == 1, "A's BLPOP was not pending when its jobs were requeued"
    finally:
        a.signal(signal.SIGCONT)
    # And once A runs again, it renews its lease, gives the token back and runs both jobs to
    # completion: no attempt spent, no failure, for a stall that happened once
    for job in jobs:
        assert job.wait(15) == 2.0
    for job in jobs:
        stored = client.hgetall(f"q:job:{job.id}")
        assert (stored["state"], stored["attempts"], stored["pykue_stalls"]) == ("complete", "1", "1"), stored
        assert "error" not in stored and "failed_at" not in stored
        assert app_queue.job_logs(job.id) == [STALLED]
    assert client.zcard("q:jobs:failed") == 0
    wait_for(lambda: client.llen("q:slow:jobs") == 0 and app_queue.counts()["inactive"] == 0, 5, message="no token")
    assert "lost its lease" in a.output()
    assert b.process.poll() is None
