"""Shared fixtures: one private redis-server per test session, never the user's port 6379."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import redis

from tests.redis_server import RedisServer

if TYPE_CHECKING:
    from pykue import Queue


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    assert server.port != 6379
    server.start()
    yield server
    server.stop()


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
