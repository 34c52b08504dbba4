"""Shared fixtures: one private redis-server per test session, never the user's port 6379."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import redis

from tests.redis_server import RedisServer

if TYPE_CHECKING:
    from pykue import Queue

#: The threads of a worker that run task code or write to Redis (pykue/worker/execution.py,
#: report.py, upkeep.py). A thread running a task cannot be stopped: only waited for.
WORKER_THREADS = frozenset({"pykue-task", "pykue-asyncio", "pykue-finisher", "pykue-upkeep"})
#: How long a test's worker threads may go on after it ends (a task stuck past its TTL, say).
WORKER_THREAD_GRACE = 10.0


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    assert server.port != 6379
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_worker_thread_outlives_its_test() -> Iterator[None]:
    """Every test shares one Redis, flushed as the next test starts. A worker's thread still
    running after its test (a task thread sleeping on after its job was given up) writes into
    a later test's Redis: the task records of tests/workerapp once landed in another test's run
    log 30 s on. So each test ends only when the worker threads it started have ended, and
    fails if one is still running ``WORKER_THREAD_GRACE`` seconds on."""
    before = set(threading.enumerate())
    yield
    started = [t for t in threading.enumerate() if t not in before and t.name in WORKER_THREADS]
    deadline = time.monotonic() + WORKER_THREAD_GRACE
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = [thread.name for thread in started if thread.is_alive()]
    assert not running, f"worker threads still running {WORKER_THREAD_GRACE} s after the test: {running}"


@pytest.fixture(autouse=True)
def redis_functions_stay_on() -> Iterator[None]:
    """A library Redis would not load (a bug in an include) would turn Redis Functions off for
    the process and pass unseen, every call falling back to EVALSHA: no test may do that."""
    from pykue.transport import functions

    was_on = functions.enabled()  # off from the start with PYKUE_REDIS_FUNCTIONS=0
    yield
    assert functions.enabled() or not was_on, "Redis Functions were turned off (see the log)"


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    conn = redis.Redis(port=redis_server.port, decode_responses=True)
    conn.flushall()
    yield conn
    conn.close()


@pytest.fixture
def queue(client: redis.Redis, redis_server: RedisServer) -> Iterator[Queue]:
    from pykue import Queue

    q = Queue(redis=redis_server.url, prefix="q")
    yield q
    q.close()


@pytest.fixture
def unique_prefix() -> str:
    return "t" + uuid.uuid4().hex[:8]
