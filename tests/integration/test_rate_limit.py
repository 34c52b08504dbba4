"""Fleet-wide rate limits: at most n starts of a type in any window, across worker
processes; jobs held back stay queued with their wake-up tokens and spend no attempt."""

from __future__ import annotations

import time

import pytest

from pykue import Queue
from pykue.exceptions import InvalidJobError
from tests.helpers import lease, wait_for

FLOW = "tests.workerapp.flow"


def test_two_worker_processes_hold_a_rate_of_20_per_second(redis_server, client, spawn_worker):
    # Given 200 jobs of a type limited to 20/s, and two workers of concurrency 10
    q = Queue(redis_server.url, "q")
    try:
        q.create_many([q.create("limited", {"n": i}) for i in range(200)])
        spawn_worker(app=FLOW)
        spawn_worker(app=FLOW)
        # When they run them all
        wait_for(lambda: q.complete_count("limited") == 200, 40, 0.2, "200 rate-limited jobs to complete")
        # Then no window of one second holds more than 20 starts (the limit holds on Redis's
        # clock; started_at is the worker's time as it sent the claim: 50 ms allowed for the
        # gap), and none failed or spent more than its one attempt
        jobs = q.range_by_type("limited", "complete", 0, -1)
        starts = sorted(int(job.started_at) for job in jobs)
        tightest = min(starts[i + 20] - starts[i] for i in range(len(starts) - 20))
        assert tightest >= 950, f"21 starts within {tightest} ms"
        assert starts[-1] - starts[0] >= 9 * 1000 - 10  # 200 at 20/s: at least 9 s from first to last
        assert q.failed_count("limited") == 0
        assert {job.attempts().made for job in jobs} == {1}
    finally:
        q.close()


def test_a_limited_claim_leaves_the_rest_queued_with_their_tokens_and_says_how_long_to_wait(redis_server, client):
    # Given 10 queued jobs of a type limited at run time to 4 per second
    q = Queue(redis_server.url, "q")
    try:
        q.create_many([q.create("mail", {"n": i}) for i in range(10)])
        q.set_rate_limit("mail", "4/s")
        store = q.store.for_worker()
        lease(q, "w1")
        # When a worker asks for 10
        first = store.claim_jobs(int(time.time() * 1000), "w1", {"mail": 10})
        again = store.claim_jobs(int(time.time() * 1000), "w1", {"mail": 10})
        # Then it gets 4, then none, and is told to wait until the window has room (up to 1 s)
        assert len(first.claimed) == 4 and again.claimed == []
        assert 0 < again.waits["mail"] <= 1001
        # and the 6 others are still queued, one wake-up token each, no attempt spent
        assert q.inactive_count("mail") == 6
        assert client.llen("q:mail:jobs") == 6
        assert {job.attempts().made for job in q.range_by_type("mail", "inactive", 0, -1)} == {0}
        # and once the window has moved on, 4 more start
        time.sleep(again.waits["mail"] / 1000)
        assert len(store.claim_jobs(int(time.time() * 1000), "w1", {"mail": 10}).claimed) == 4
    finally:
        q.close()


def test_set_rate_limit_changes_and_lifts_the_limit_for_the_fleet(redis_server, client):
    q = Queue(redis_server.url, "q")
    try:
        q.set_rate_limit("mail", "100/m")
        assert q.limits()["mail"].rate_limit == "100/m"
        assert q.limits()["mail"].set_at_run_time == {"rate_limit"}
        q.set_rate_limit("mail", None)
        assert q.limits()["mail"].rate_limit is None
        q.reset_limits("mail")
        assert "mail" not in q.limits()  # nothing declared, nothing set: no field, no cost
    finally:
        q.close()


@pytest.mark.parametrize("bad", ["", "10", "0/s", "10/d", "ten/s", 10, "1/s/s"])
def test_a_bad_rate_is_refused_and_nothing_is_stored(redis_server, client, bad):
    q = Queue(redis_server.url, "q")
    try:
        with pytest.raises(InvalidJobError):
            q.set_rate_limit("mail", bad)
        with pytest.raises(InvalidJobError):
            q.task("x", rate_limit=bad)(lambda: None)
        assert q.limits() == {}
    finally:
        q.close()


def test_a_run_time_limit_wins_over_what_a_starting_worker_declares(redis_server, client, workers):
    # Given a rate set at run time for a type whose task declares another
    q = Queue(redis_server.url, "q")

    @q.task("mail", rate_limit="5/s")
    def mail() -> None: ...

    try:
        q.set_rate_limit("mail", "7/s")
        # When a worker serving the task starts
        workers.burst(q)
        # Then the run-time value holds; reset, the declared one does
        assert q.limits()["mail"].rate_limit == "7/s"
        q.reset_limits("mail")
        assert q.limits()["mail"].rate_limit == "5/s"
    finally:
        q.close()


def test_a_limit_lifted_at_run_time_frees_a_held_back_worker_within_about_a_second(redis_server, client, workers):
    # Given a running worker of a type limited to 1 per minute, with 5 jobs queued: 1 ran
    q = Queue(redis_server.url, "q")

    @q.task("report", concurrency=5, rate_limit="1/m")
    def report(n: int) -> int:
        return n

    try:
        report.delay_many([{"n": i} for i in range(5)])
        workers.start(q)
        wait_for(lambda: q.complete_count("report") == 1, 10, 0.05, "the first job")
        time.sleep(0.5)
        assert q.complete_count("report") == 1 and q.inactive_count("report") == 4
        # When the limit is lifted for the fleet
        lifted = time.monotonic()
        q.set_rate_limit("report", None)
        # Then the worker runs the others within about a second, not a minute
        wait_for(lambda: q.complete_count("report") == 5, 10, 0.05, "the other 4 jobs")
        assert time.monotonic() - lifted < 3
    finally:
        q.close()


def test_a_held_back_worker_keeps_one_wake_up_token_per_queued_job(redis_server, client, workers):
    # Given a running worker of a type limited to 1 per minute, 4 jobs queued: 1 ran
    q = Queue(redis_server.url, "q")

    @q.task("digest", concurrency=4, rate_limit="1/m")
    def digest(n: int) -> int:
        return n

    try:
        digest.delay_many([{"n": i} for i in range(4)])
        workers.start(q)
        wait_for(lambda: q.complete_count("digest") == 1, 10, 0.05, "the first job")
        # When it waits on the type's tokens through several of its 1 s holds
        time.sleep(3.5)
        # Then each BLPOP's token went back: still one per queued job (Node workers rely on it)
        assert q.inactive_count("digest") == 3
        assert client.llen("q:digest:jobs") == 3
    finally:
        q.close()
