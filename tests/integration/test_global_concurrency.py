"""Global concurrency: at most n jobs of a type active at once across every worker process
(Kue's per-type active set is the count, Node workers' jobs included); the slots of a worker
that dies come back once its jobs are recovered."""

from __future__ import annotations

import signal
import threading
import time

from pykue import Queue
from tests.helpers import wait_for

FLOW = "tests.workerapp.flow"


def test_two_workers_of_concurrency_5_never_run_more_than_3(redis_server, client, spawn_worker):
    # Given 24 jobs of a type limited to 3 active fleet-wide, and two workers of concurrency 5
    q = Queue(redis_server.url, "q")
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(client.zcard("q:jobs:capped:active"))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        q.create_many([q.create("capped", {"seconds": 0.2}) for _ in range(24)])
        sampler.start()
        spawn_worker(app=FLOW)
        spawn_worker(app=FLOW)
        # When they run them all
        wait_for(lambda: q.complete_count("capped") == 24, 40, 0.1, "24 capped jobs to complete")
        done.set()
        sampler.join(5)
        # Then Redis never held more than 3 active, and the tasks never overlapped more than 3
        assert max(samples) == 3
        assert int(client.get("wt:peak:capped")) == 3
        assert q.failed_count("capped") == 0
    finally:
        done.set()
        q.close()


def test_a_killed_workers_slots_come_back_with_its_jobs(redis_server, client, spawn_worker):
    # Given a worker holding all 3 slots of the type with long jobs
    q = Queue(redis_server.url, "q")
    try:
        q.create_many([q.create("capped", {"seconds": 60}) for _ in range(3)])
        q.create_many([q.create("capped", {"seconds": 0.1}) for _ in range(6)])
        first = spawn_worker("--stalled-timeout", "2", app=FLOW)
        wait_for(lambda: client.zcard("q:jobs:capped:active") == 3, 15, 0.05, "3 active jobs")
        # When it is killed and another worker runs (its long jobs cut to 0.1 s)
        first.process.send_signal(signal.SIGKILL)
        first.wait(10)
        for job in q.range_by_type("capped", "active", 0, -1):
            client.hset(f"q:job:{job.id}", "data", '{"seconds": 0.1}')
        client.delete("wt:running:capped", "wt:peak:capped")  # the killed runs never left
        spawn_worker("--stalled-timeout", "2", app=FLOW)
        # Then the dead worker's jobs are recovered and every job runs, 3 at most at once
        wait_for(lambda: q.complete_count("capped") == 9, 30, 0.1, "all 9 jobs to complete")
        assert int(client.get("wt:peak:capped")) <= 3
    finally:
        q.close()


def test_global_concurrency_is_set_and_lifted_at_run_time(redis_server, client):
    q = Queue(redis_server.url, "q")
    try:
        q.set_global_concurrency("capped", 2)
        assert q.limits()["capped"].global_concurrency == 2
        q.set_global_concurrency("capped", None)
        assert q.limits()["capped"].global_concurrency is None
    finally:
        q.close()
