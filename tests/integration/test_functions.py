"""The hot scripts run as Redis Functions (FCALL) where the server allows it, as EVALSHA
where it does not, and a call refused either way is sent again only because it did not run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
import redis

from pykue import Queue
from pykue.job import now_ms
from pykue.metrics import type_stats
from pykue.transport import functions
from pykue.worker import Worker
from tests.helpers import claim_as, is_loaded, wait_for
from tests.redis_server import RedisServer

HOT = ("save_jobs", "claim_jobs", "claim_woken", "complete_jobs", "fail_job")


def calls(client: redis.Redis) -> dict[str, int]:
    return {name[len("cmdstat_") :]: stat["calls"] for name, stat in client.info("commandstats").items()}


def run_jobs(queue: Queue, client: redis.Redis, n: int = 40) -> dict[int, int]:
    """n jobs through a worker with room for several at once (reports in flight), one of
    them failing for good; returns how often each ran."""
    ran: dict[int, int] = {}
    lock = threading.Lock()

    @queue.task("count", concurrency=8, attempts=1)
    def count(i):
        with lock:
            ran[i] = ran.get(i, 0) + 1
        if i == 0:
            raise ValueError("the one that fails")

    for i in range(n // 2):
        count.delay(i=i)
    count.delay_many([{"i": i} for i in range(n // 2, n)])  # the pipelined saves
    worker = Worker(queue, promote_interval=0.05)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_for(
            lambda: client.zcard(f"{queue.prefix}:jobs:complete") + client.zcard(f"{queue.prefix}:jobs:failed") == n,
            30,
            message="every job to end",
        )
    finally:
        worker.stop()
        thread.join(10)
    return ran


def test_a_worker_runs_its_jobs_through_functions(queue, client):
    client.config_resetstat()
    ran = run_jobs(queue, client)
    assert ran == dict.fromkeys(range(40), 1)
    assert client.zcard("q:jobs:failed") == 1 and client.zcard("q:jobs:complete") == 39
    loaded = {dict(zip(lib[::2], lib[1::2]))["library_name"] for lib in client.function_list()}
    assert {getattr(queue.scripts, f"_{name}").function for name in HOT} <= loaded
    stats = calls(client)
    assert stats.get("fcall", 0) >= 20 + 1 + 5  # 20 single saves, the bulk one, the reports
    assert stats.get("fcall", 0) > stats.get("evalsha", 0)  # EVALSHA: the upkeep's scripts only
    assert functions.enabled()


def test_after_a_function_flush_the_libraries_load_again_and_nothing_runs_twice(queue, client):
    queue.create("email", {"n": 1}).save()
    client.function_flush()
    client.config_resetstat()
    job = queue.create("email", {"n": 2}).save()
    assert job.id == 2 and client.get("q:ids") == "2"  # the refused call took no id
    assert calls(client)["fcall"] == 2 and "evalsha" not in calls(client)  # refused, then run
    assert is_loaded(client, queue.scripts._save_jobs)
    claimed = claim_as(queue, "w1", {"email": 5})
    assert [c.id for c in claimed] == [1, 2]
    client.function_flush()
    done = queue.scripts.complete_jobs(queue.client, now_ms(), [(c.id, c.claim, "") for c in claimed])
    assert list(done.replies) == [1, 1]
    assert client.zcard("q:jobs:complete") == 2
    assert type_stats({}, client.hgetall("q:pykue:stats:email")).complete == 2
    assert functions.enabled() and is_loaded(client, queue.scripts._complete_jobs)


def test_a_call_that_fails_midway_leaves_no_counts_to_the_next(queue, client):
    """A library keeps its includes' state between calls: the per-type counters a call had
    gathered when it failed must not be added by the next call (under EVALSHA each call
    starts afresh anyway)."""
    assert functions.enabled()  # else this says nothing of the libraries
    for i in range(3):
        queue.create("email", {"i": i}).save()
    a, b, c = claim_as(queue, "w1", {"email": 3})
    client.hset(f"q:job:{b.id}", "pykue_flow", "900:1")
    client.set("q:pykue:flow:900", "not a hash")  # b's completion fails on it, after a's
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        queue.scripts.complete_jobs(queue.client, now_ms(), [(a.id, a.claim, ""), (b.id, b.claim, "")])
    client.delete(queue.keys.type_stats("email"))
    done = queue.scripts.complete_jobs(queue.client, now_ms(), [(c.id, c.claim, "")])
    assert list(done.replies) == [1]
    stats = type_stats({}, client.hgetall(queue.keys.type_stats("email")))
    assert stats.complete == 1 and stats.duration.buckets[-1] == ("+Inf", 1.0)


@pytest.mark.parametrize("refused", ["FCALL", "FUNCTION", "ACL"])
def test_a_server_that_refuses_functions_gets_evalsha(refused, monkeypatch, tmp_path):
    # Given a Redis where FCALL, or FUNCTION (no library can load), is an unknown command, or
    # whose user may not use either (an ACL), as a managed service or a proxy may have it
    monkeypatch.setattr(functions, "_enabled", True)  # the refusal turns them off for the process
    monkeypatch.setattr(functions, "_loaded", set())  # this process loaded none there
    renamed = [] if refused == "ACL" else ["--rename-command", refused, ""]
    server = RedisServer(tmp_path, extra_args=renamed).start()
    try:
        client = redis.Redis(port=server.port, decode_responses=True)
        url = server.url
        if refused == "ACL":
            client.acl_setuser(
                "app",
                enabled=True,
                passwords=["+pw"],
                keys=["*"],
                channels=["*"],
                commands=["+@all", "-fcall", "-function"],
            )
            url = f"redis://app:pw@127.0.0.1:{server.port}/0"
        queue = Queue(redis=url, prefix="q")
        # When a worker runs jobs there
        ran = run_jobs(queue, client)
        # Then every job ran once through EVALSHA, after a refusal or two
        assert ran == dict.fromkeys(range(40), 1)
        assert client.zcard("q:jobs:complete") == 39 and client.zcard("q:jobs:failed") == 1
        assert not functions.enabled()
        stats = calls(client)
        # no FCALL ran (where FUNCTION is refused none goes out: one goes only once a library loaded)
        assert stats["evalsha"] >= 40 and stats.get("fcall", 0) == 0
        queue.close()
        client.close()
    finally:
        server.stop()


def test_pykue_redis_functions_0_keeps_evalsha(redis_server, client):
    client.config_resetstat()
    code = (
        "from pykue import Queue; from pykue.transport import functions; "
        f"q = Queue(redis={redis_server.url!r}, prefix='q'); q.create('email').save(); "
        "print(functions.enabled())"
    )
    env = {**os.environ, "PYKUE_REDIS_FUNCTIONS": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
    assert client.zcard("q:jobs:inactive") == 1
    stats = calls(client)
    assert stats.get("evalsha", 0) >= 1 and "fcall" not in stats


def test_a_library_that_cannot_load_for_now_leaves_the_call_to_evalsha(monkeypatch, tmp_path):
    # Given a worker's claim script loaded as a function, then gone (a restart), on a Redis
    # that is out of memory, where FUNCTION LOAD is refused for now but SCRIPT LOAD is not
    monkeypatch.setattr(functions, "_loaded", set())
    monkeypatch.setattr(functions, "_failed_at", {})
    server = RedisServer(tmp_path).start()
    try:
        client = redis.Redis(port=server.port, decode_responses=True)
        queue = Queue(redis=server.url, prefix="q")
        claim_as(queue, "w1", {"email": 1})  # nothing to claim: loads the library
        assert is_loaded(client, queue.scripts._claim_jobs)
        client.function_flush()
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", "1")
        # When the worker claims (nothing waits)
        claims = queue.scripts.claim_jobs(queue.client, now_ms(), "w1", {"email": 1})
        # Then the call ran, as EVALSHA of the source loaded meanwhile; Functions stay on, to
        # be loaded again later
        assert claims.claimed == [] and functions.enabled()
        assert functions.head(queue.scripts._claim_jobs)[0] == "EVALSHA"
        client.config_set("maxmemory", "0")
        queue.close()
        client.close()
    finally:
        server.stop()
