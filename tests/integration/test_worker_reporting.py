"""The finisher keeps two complete_jobs calls out at once on its own connection (the next
batch is sent before the last one's reply is read). Whatever happens to those calls, a
script flushed or a connection dropped between send and reply, every job still ends
complete, once, and no claim is left behind."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

import pytest
import redis

from pykue.keys import strip_zid
from pykue.worker import Worker
from tests.helpers import flush_scripts, wait_for

JOBS = 3000


def register_tick(queue, ran: Counter[int]):
    """The task `tick`, counting its runs per job in ``ran``."""
    lock = threading.Lock()

    @queue.task("tick", concurrency=10)
    def tick(i):
        with lock:
            ran[i] += 1

    return tick


@pytest.fixture
def counted(queue):
    """A task that counts its runs per job, and JOBS jobs of it queued."""
    ran: Counter[int] = Counter()
    register_tick(queue, ran).delay_many([{"i": i} for i in range(JOBS)])
    return ran


@contextmanager
def running_worker(queue, **options):
    """A worker on a thread for the block; it must stop cleanly at the end."""
    worker = Worker(queue, promote_interval=0.05, stalled_timeout=1.5, **options)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop(2)
        thread.join(10)
    assert not thread.is_alive()


def run_until_all_complete(queue, client, ran, disturb):
    """Run a worker; once a tenth of the jobs are done, call ``disturb`` three times, some
    hundreds of jobs apart; wait until every job is complete."""
    with running_worker(queue) as worker:
        for share in (10, 30, 50):
            wait_for(
                lambda share=share: client.zcard("q:jobs:complete") >= JOBS * share // 100,
                30,
                message=f"{share}% of the jobs to complete",
            )
            disturb()
        wait_for(
            lambda: client.zcard("q:jobs:complete") == JOBS,
            30,
            message=lambda: (
                f"every job to complete ({client.zcard('q:jobs:complete')} of {JOBS}; "
                f"{client.zcard('q:jobs:active')} active)"
            ),
        )
    return worker


def assert_each_ran_once_and_nothing_is_held(client, ran):
    assert sorted(ran) == list(range(JOBS))
    assert set(ran.values()) == {1}, {i: n for i, n in ran.items() if n != 1}
    assert client.zcard("q:jobs:active") == 0 and client.zcard("q:jobs:inactive") == 0
    held = [
        key
        for key in client.scan_iter("q:job:*")
        if key.split(":")[-1].isdigit() and client.hexists(key, "pykue_claim")
    ]
    assert held == []


def test_many_short_jobs_each_run_once(queue, client, counted):
    worker = run_until_all_complete(queue, client, counted, lambda: None)
    assert_each_ran_once_and_nothing_is_held(client, counted)
    assert worker.processed == JOBS


def test_a_script_flush_between_send_and_reply_loses_nothing(queue, client, counted):
    # When the scripts vanish from Redis while calls are out (a SCRIPT FLUSH, a failover)
    run_until_all_complete(queue, client, counted, lambda: flush_scripts(client))
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


def test_a_job_that_ends_while_a_report_is_out_is_reported_without_waiting_for_its_reply(queue, client):
    # Given a worker running two jobs that end when told, and Redis holding back writes, so
    # that a report sent stays without a reply
    release = {0: threading.Event(), 1: threading.Event()}

    @queue.task("held", concurrency=2)
    def held(i):
        release[i].wait(10)

    held.delay(i=0)
    held.delay(i=1)
    with running_worker(queue) as worker:
        wait_for(lambda: client.zcard("q:jobs:active") == 2, 10, message="both jobs to start")
        client.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
        try:
            # When the first job ends, its report goes out and waits on Redis
            release[0].set()
            wait_for(lambda: worker.reporter.calls_out == 1, 5, message="the first report to be out")
            # and the second ends while that report still has no reply
            release[1].set()
            # Then its report goes out too, before the first one's reply
            wait_for(lambda: worker.reporter.calls_out == 2, 5, message="the second report to be out as well")
        finally:
            client.execute_command("CLIENT", "UNPAUSE")
        # and once Redis runs them, both jobs are complete
        wait_for(lambda: client.zcard("q:jobs:complete") == 2, 10, message="both jobs to complete")
    assert worker.processed == 2


def test_at_concurrency_one_a_task_thread_reports_its_job_and_runs_the_next_itself(queue, client, caplog):
    # Given jobs of a task that runs one at a time, noting the thread it runs on
    threads: Counter[str] = Counter()
    ran: Counter[int] = Counter()

    @queue.task("serial", concurrency=1)
    def serial(i):
        threads[threading.current_thread().name] += 1
        ran[i] += 1

    serial.delay_many([{"i": i} for i in range(300)])
    # When a worker runs them all
    caplog.set_level("INFO", logger="pykue.worker")
    with running_worker(queue) as worker:
        wait_for(lambda: client.zcard("q:jobs:complete") == 300, 30, message="every job to complete")
    # Then each ran once, all on one task thread, which also stored their outcomes and claimed
    # the next job: the reporter's thread stored (almost) none of them
    assert sorted(ran) == list(range(300)) and set(ran.values()) == {1}
    assert worker.processed == 300
    assert len(threads) == 1
    completed = [r for r in caplog.records if " completed in " in r.getMessage()]
    assert len(completed) == 300
    on_task_threads = sum(r.threadName == "pykue-task" for r in completed)
    assert on_task_threads >= 290, Counter(r.threadName for r in completed)


class HealthCheckAlwaysDue(redis.Connection):
    """A connection whose redis-py health check (a PING, its reply read at once) is due before
    every command sent with checks allowed, once the handshake is done."""

    def connect_check_health(self, *args, **kwargs):
        super().connect_check_health(*args, **kwargs)
        self.checks_on = True

    def check_health(self):
        if getattr(self, "checks_on", False) and self._sock is not None:
            self.next_health_check = 0
        super().check_health()


def test_a_due_health_check_never_reads_a_reply_in_flight(client, counted, redis_server):
    # Given a client that health-checks its connections before every command it may, so a
    # check is due whenever the finisher sends a call with another one out (its PING would
    # read that call's reply)
    from pykue import Queue

    pool = redis.ConnectionPool(
        port=redis_server.port, decode_responses=True, health_check_interval=3600, connection_class=HealthCheckAlwaysDue
    )
    checked = Queue(redis=redis.Redis(connection_pool=pool), prefix="q")
    register_tick(checked, counted)
    # When a worker on that client runs every job, with its calls in flight
    worker = run_until_all_complete(checked, client, counted, lambda: None)
    # Then each reply was read by the call it answers: every job complete, once
    assert worker.reporter.pipelined
    assert_each_ran_once_and_nothing_is_held(client, counted)
    assert worker.processed == JOBS
    checked.close()


def test_a_worker_on_a_small_blocking_pool_reports_every_outcome(redis_server, client):
    # Given a client whose blocking pool has two connections, and jobs that pass and fail
    from pykue import Queue

    pool = redis.BlockingConnectionPool(port=redis_server.port, max_connections=2, timeout=10, decode_responses=True)
    small = Queue(redis=redis.Redis(connection_pool=pool), prefix="q")

    @small.task("parity", concurrency=4)
    def parity(i):
        if i % 5 == 0:
            raise ValueError(f"{i} is a multiple of 5")
        return i

    parity.delay_many([{"i": i} for i in range(200)])
    # When a worker runs them (its finisher keeps no connection of that pool for itself)
    with running_worker(small) as worker:
        assert not worker.reporter.pipelined
        wait_for(
            lambda: client.zcard("q:jobs:complete") == 160 and client.zcard("q:jobs:failed") == 40,
            30,
            message=lambda: (
                f"every outcome stored ({client.zcard('q:jobs:complete')} complete, "
                f"{client.zcard('q:jobs:failed')} failed, {client.zcard('q:jobs:active')} active)"
            ),
        )
    # Then every outcome was stored, and the worker stopped cleanly
    assert (worker.processed, worker.failed) == (160, 40)
    small.close()


@pytest.mark.parametrize(
    "pool_class, size, least",
    [
        (redis.BlockingConnectionPool, 1, 2),  # its only connection held by the BLPOP
        (redis.ConnectionPool, 2, 3),  # the upkeep's tick would be refused a third
    ],
)
def test_a_worker_refuses_a_pool_too_small_for_it(redis_server, pool_class, size, least):
    # Given a client whose pool is smaller than a worker's BLPOP, reports and upkeep need
    from pykue import ConfigurationError, Queue

    small = Queue(
        redis=redis.Redis(
            connection_pool=pool_class(port=redis_server.port, max_connections=size, decode_responses=True)
        ),
        prefix="q",
    )
    small.task("noop")(lambda: None)
    # When a worker is made for it, Then it is refused, naming the pool's size and the least
    with pytest.raises(ConfigurationError, match=rf"at least {least} connections .*max_connections={size}"):
        Worker(small)
    small.close()


def test_a_worker_runs_on_a_plain_pool_of_three(redis_server, client):
    # Given a plain pool of three connections (no waiting for a free one: a fourth is an error)
    from pykue import Queue

    three = Queue(
        redis=redis.Redis(
            connection_pool=redis.ConnectionPool(port=redis_server.port, max_connections=3, decode_responses=True)
        ),
        prefix="q",
    )
    errors = []
    three.on("error", errors.append)

    @three.task("echo", concurrency=10)
    def echo(i):
        return i

    echo.delay_many([{"i": i} for i in range(1000)])
    # When a worker runs them
    with running_worker(three):
        wait_for(
            lambda: client.zcard("q:jobs:complete") == 1000,
            30,
            message=lambda: f"every job to complete ({client.zcard('q:jobs:complete')} complete)",
        )
    # Then no call ever went without a connection
    assert errors == []
    three.close()


def test_failures_among_calls_in_flight_are_each_stored(queue, client):
    # Given jobs of which every seventh fails, among many short successes
    @queue.task("odd", concurrency=10)
    def odd(i):
        if i % 7 == 0:
            raise ValueError(f"{i} is a multiple of 7")

    odd.delay_many([{"i": i} for i in range(JOBS)])
    failing = len(range(0, JOBS, 7))
    # When a worker runs them (a failure waits for the calls in flight, then goes alone)
    with running_worker(queue) as worker:
        wait_for(
            lambda: client.zcard("q:jobs:complete") + client.zcard("q:jobs:failed") == JOBS,
            30,
            message=lambda: f"every outcome stored ({client.zcard('q:jobs:active')} active)",
        )
    # Then each job has the outcome its run had, and nothing is left held
    failed = {strip_zid(member) for member in client.zrange("q:jobs:failed", 0, -1)}
    assert len(failed) == failing and (worker.processed, worker.failed) == (JOBS - failing, failing)
    assert {client.hget(f"q:job:{job_id}", "error").split("\n")[0] for job_id in failed} == {
        f"ValueError: {i} is a multiple of 7" for i in range(0, JOBS, 7)
    }
    assert client.zcard("q:jobs:active") == 0


@pytest.mark.parametrize(("level", "started_lines"), [("INFO", 0), ("DEBUG", 5)])
def test_a_job_logs_one_line_at_info_and_its_start_too_at_debug(queue, client, caplog, level, started_lines):
    # Given five jobs
    @queue.task("logged")
    def logged(i):
        return i

    logged.delay_many([{"i": i} for i in range(5)])
    # When a worker logging at `level` runs them
    caplog.set_level(level, logger="pykue.worker")
    with running_worker(queue):
        wait_for(lambda: client.zcard("q:jobs:complete") == 5, 10, message="every job to complete")
    # Then each job logged the line of its end, with its id, type and duration; its start only at DEBUG
    messages = [r.getMessage() for r in caplog.records]
    ended = sorted(m for m in messages if m.startswith("job ") and " logged completed in " in m)
    assert len(ended) == 5 and ended[0].startswith("job 1 logged completed in ") and ended[0].endswith(" ms")
    assert sum(m.startswith("job ") and m.endswith(" logged started") for m in messages) == started_lines


@pytest.mark.parametrize("outcome", ["complete", "failed"])
def test_a_job_whose_options_were_edited_into_nonsense_still_ends(queue, client, outcome):
    # Given a job whose hash another client edited: a retention rule and a backoff no parser reads
    @queue.task("edited", ttl=60_000)  # a TTL: the upkeep reads the job's options every tick
    def edited(i):
        if outcome == "failed":
            raise ValueError("boom")
        return i

    job = edited.delay(i=1)
    client.hset(f"q:job:{job.id}", mapping={"pykue_keep_failed": "²:", "backoff": "[" * 50_000})
    # When a worker runs it
    with running_worker(queue):
        wait_for(lambda: client.zcard(f"q:jobs:{outcome}") == 1, 10, message=f"the job to be {outcome}")
    # Then it ended as its task did, with the task's own error, and was never retried
    assert client.hget(f"q:job:{job.id}", "state") == outcome
    assert client.hget(f"q:job:{job.id}", "attempts") == "1"
    if outcome == "failed":
        assert client.hget(f"q:job:{job.id}", "error").startswith("ValueError: boom")
