"""The finisher keeps two complete_jobs calls out at once on its own connection (the next
batch is sent before the last one's reply is read). Whatever happens to those calls, a
script flushed or a connection dropped between send and reply, every job still ends
complete, once, and no claim is left behind."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from pykue.worker import Worker
from tests.helpers import wait_for

JOBS = 3000


@pytest.fixture
def counted(queue):
    """A task that counts its runs per job, and JOBS jobs of it queued."""
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    @queue.task("tick", concurrency=10)
    def tick(i):
        with lock:
            ran[i] += 1

    tick.delay_many([{"i": i} for i in range(JOBS)])
    return ran


def run_until_all_complete(queue, client, ran, disturb):
    """Run a worker; once a tenth of the jobs are done, call ``disturb`` three times, some
    hundreds of jobs apart; wait until every job is complete."""
    worker = Worker(queue, promote_interval=0.05, stalled_timeout=1.5)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        for share in (10, 30, 50):
            wait_for(lambda: client.zcard("q:jobs:complete") >= JOBS * share // 100, 30,
                     message=f"{share}% of the jobs to complete")
            disturb()
        wait_for(lambda: client.zcard("q:jobs:complete") == JOBS, 30,
                 message=lambda: f"every job to complete ({client.zcard('q:jobs:complete')} of {JOBS}; "
                                 f"{client.zcard('q:jobs:active')} active)")
    finally:
        worker.stop(2)
        thread.join(10)
    assert not thread.is_alive()
    return worker


def assert_each_ran_once_and_nothing_is_held(client, ran):
    assert sorted(ran) == list(range(JOBS))
    assert set(ran.values()) == {1}, {i: n for i, n in ran.items() if n != 1}
    assert client.zcard("q:jobs:active") == 0 and client.zcard("q:jobs:inactive") == 0
    held = [key for key in client.scan_iter("q:job:*") if key.split(":")[-1].isdigit()
            and client.hexists(key, "pykue_claim")]
    assert held == []


def test_many_short_jobs_each_run_once(queue, client, counted):
    worker = run_until_all_complete(queue, client, counted, lambda: None)
    assert_each_ran_once_and_nothing_is_held(client, counted)
    assert worker.processed == JOBS


def test_a_script_flush_between_send_and_reply_loses_nothing(queue, client, counted):
    # When the scripts vanish from Redis while calls are out (a SCRIPT FLUSH, a failover)
    run_until_all_complete(queue, client, counted, client.script_flush)
    # Then the refused calls were sent again: every job complete, each run once
    assert_each_ran_once_and_nothing_is_held(client, counted)


def test_connections_dropped_between_send_and_reply_lose_nothing(queue, client, counted):
    # When every connection of the worker is cut while calls are out
    def cut():
        client.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")

    worker = run_until_all_complete(queue, client, counted, cut)
    # Then the jobs whose completion may have been lost were reported again, the ones a lost
    # reply had claimed were requeued and run: every job complete, each run once
    assert_each_ran_once_and_nothing_is_held(client, counted)
    assert worker.processed + worker.failed <= JOBS
