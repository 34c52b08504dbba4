"""A claim whose reply never reached the worker (its connection dropped mid-call) must not
strand the job: the worker gives it back without spending an attempt."""

from __future__ import annotations

import threading

from pykue.worker import Worker
from tests.helpers import claim_as, wait_for


def test_a_job_claimed_for_this_worker_but_never_received_is_requeued_and_run(queue, client):
    ran = []

    @queue.task("email", attempts=1)
    def send(to):
        ran.append(to)
        return to

    send.delay(to="tj")
    worker = Worker(queue, promote_interval=0.05, stalled_timeout=1.5)
    # Given: the claim ran in Redis for this worker, but its reply was lost.
    [(job_id, claim, _)] = claim_as(queue, worker.id, {"email": 1})
    assert client.hget(f"q:job:{job_id}", "state") == "active"

    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        # Then: the worker notices it holds a claim it is not running, requeues it and runs it.
        wait_for(
            lambda: client.hget(f"q:job:{job_id}", "state") == "complete",
            timeout=15,
            message="the orphaned job to be requeued and completed",
        )
    finally:
        worker.stop(1)
        thread.join(10)
    assert ran == ["tj"]
    fields = client.hgetall(f"q:job:{job_id}")
    assert fields["attempts"] == "1"  # the lost claim did not spend the only attempt
    assert "requeued" in client.lrange(f"q:job:{job_id}:log", 0, -1)[0]
    assert "pykue_claim" not in fields
