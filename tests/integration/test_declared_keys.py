"""Every key a script call declares in KEYS is a real key of its queue: a name under the
queue's prefix that the script may read or write, never an empty string, never the lease of
no worker. Redis Cluster routes a call by its KEYS and checks each one against the slot, so
a placeholder key ("" for "none") would break routing, and a made-up one misleads both
Cluster and a reader of the script. Observed with MONITOR on a real server, as a worker and
the scripts' other callers send their calls."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from pykue import Queue
from pykue.job_hash import now_ms
from tests.redis_server import RedisServer

PREFIX = "{q}"
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_STOP = "pykue-test-stop-monitor"


@contextmanager
def script_calls(url: str) -> Iterator[list[list[str]]]:
    """The KEYS of each EVALSHA, EVAL or FCALL the server runs meanwhile."""
    calls: list[list[str]] = []
    monitor = redis.Redis.from_url(url, decode_responses=True)
    conn = monitor.connection_pool.get_connection()
    conn.send_command("MONITOR")
    assert conn.read_response() == "OK"

    def read() -> None:
        while True:
            line = conn.read_response()
            args = [a.encode().decode("unicode_escape") for a in _ARG.findall(line)]
            if _STOP in args:
                return
            if args and args[0].upper() in ("EVALSHA", "EVAL", "FCALL") and "lua" not in line.split("]", 1)[0]:
                calls.append(args[3 : 3 + int(args[2])])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield calls
    finally:
        monitor.echo(_STOP)
        reader.join(10)
        conn.disconnect()
        monitor.close()


def unreal_keys(calls: list[list[str]]) -> list[str]:
    lease_of_nobody = f"{PREFIX}:pykue:worker:"
    return [k for keys in calls for k in keys if not k.startswith(f"{PREFIX}:") or k == lease_of_nobody]


def test_a_worker_declares_only_real_keys(redis_server: RedisServer, workers) -> None:
    # Given a hash-tagged queue with jobs that succeed, fail for good and retry
    q = Queue(redis=redis_server.url, prefix=PREFIX)

    @q.task("ok")
    def ok(n: int) -> int:
        return n

    @q.task("bad", attempts=2)
    def bad(n: int) -> None:
        raise ValueError(n)

    try:
        ok.delay_many([{"n": i} for i in range(20)])
        bad.delay_many([{"n": i} for i in range(5)])
        # When a worker runs them all, its reports mixing successes and failures
        with script_calls(redis_server.url) as calls:
            workers.burst(q)
        # Then every key its calls declared is one of the queue's
        assert calls
        assert unreal_keys(calls) == []
    finally:
        q.close()


def test_completing_and_ticking_declare_only_real_keys(redis_server: RedisServer) -> None:
    # Given a job claimed by a worker
    q = Queue(redis=redis_server.url, prefix=PREFIX)
    store = q.store.for_worker()
    try:
        job = q.create("email", {}).save()
        store.renew_lease("w1", now_ms(), 5_000)
        (claimed,) = store.claim_jobs(now_ms(), "w1", {"email": 1}).claimed
        with script_calls(redis_server.url) as calls:
            # When it is completed with no refill (a stopping worker's report), and a tick runs
            completion = store.complete_jobs(now_ms(), [(claimed.id, claimed.claim, "")])
            store.tick(now_ms(), 100, "w1", 5_000, True, ["email"])
        # Then neither call declared a placeholder for a worker's lease
        assert completion.replies == [1] and job.refresh().state == "complete"
        assert len(calls) == 2
        assert unreal_keys(calls) == []
    finally:
        q.close()


def test_cancelling_and_cleaning_declare_only_real_keys(redis_server: RedisServer) -> None:
    # Given a queued job and a completed one
    q = Queue(redis=redis_server.url, prefix=PREFIX)
    try:
        waiting = q.create("to_cancel", {}).save()
        done = q.create("to_clean", {}).save()
        done.set_state("complete")
        with script_calls(redis_server.url) as calls:
            # When one is cancelled and the other cleaned away
            q.cancel(waiting.id)
            assert q.clean("complete", type="to_clean") == 1
            assert q.clean("failed", older_than=3600) == 0  # the cancelled job is younger
        # Then every key their calls declared is one of the queue's
        assert len(calls) >= 3  # a script's first call may be sent twice (NOSCRIPT, then loaded)
        assert unreal_keys(calls) == []
    finally:
        q.close()
