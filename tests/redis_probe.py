"""Reading Redis from the outside in tests of the core: key snapshots, Kue's indexes, events.

Nothing here uses pykue to check pykue: keys are spelled out as Kue's lib/queue/job.js writes them,
and events are read by a plain redis-py pubsub on ``<prefix>:events``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import redis

from tests.helpers import wait_for

STATES = ("inactive", "active", "complete", "failed", "delayed")


def zid(job_id: int) -> str:
    text = str(job_id)
    return f"{len(text):02d}|{text}"


def snapshot(client: redis.Redis) -> dict[str, Any]:
    """Every key with its type and full value, to compare the whole keyspace."""
    out: dict[str, Any] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            value = kind
        out[key] = (kind, value)
    return out


def assert_placed(
    client: redis.Redis,
    job_id: int,
    job_type: str,
    state: str,
    priority: int,
    score: float | None = None,
    prefix: str = "q",
) -> None:
    """The job's zid is in `jobs`, in exactly one global and one per-type state set, with Kue's scores."""
    member = zid(job_id)
    p = prefix + ":"
    assert client.hget(f"{p}job:{job_id}", "state") == state
    assert client.zscore(p + "jobs", member) == priority
    for s in STATES:
        global_score = client.zscore(f"{p}jobs:{s}", member)
        type_score = client.zscore(f"{p}jobs:{job_type}:{s}", member)
        if s == state:
            assert global_score == (priority if score is None else score), f"score in jobs:{s}"
            assert type_score == priority, f"score in jobs:{job_type}:{s}"
        else:
            assert global_score is None, f"zid still in jobs:{s}"
            assert type_score is None, f"zid still in jobs:{job_type}:{s}"


def tokens(client: redis.Redis, job_type: str, prefix: str = "q") -> list[str]:
    return client.lrange(f"{prefix}:{job_type}:jobs", 0, -1)


class EventRecorder:
    """Subscribes to a queue's channel and hands back the parsed messages.

    ``collect()`` publishes a fence message and waits for it: Redis delivers one channel's
    messages in order, so everything a script published before the fence has arrived, and
    "no event" can be asserted without sleeping.
    """

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.client = client
        self.channel = channel
        self.pubsub = client.pubsub()
        self.pubsub.subscribe(channel)
        wait_for(self._confirmed, 5, message=f"SUBSCRIBE {channel}")
        self.pending: list[Any] = []

    def _confirmed(self) -> bool:
        message = self.pubsub.get_message(timeout=0.05)
        return bool(message and message["type"] == "subscribe")

    def collect(self, timeout: float = 5.0) -> list[Any]:
        fence = "fence-" + uuid.uuid4().hex
        self.client.publish(self.channel, fence)
        got: list[Any] = []

        def arrived() -> bool:
            message = self.pubsub.get_message(timeout=0.05)
            while message is not None:
                if message["type"] == "message":
                    if message["data"] == fence:
                        return True
                    got.append(json.loads(message["data"]))
                message = self.pubsub.get_message(timeout=0)
            return False

        wait_for(arrived, timeout, message="the fence message")
        return got

    def close(self) -> None:
        self.pubsub.close()


@pytest.fixture
def events(client):
    """Messages on ``q:events`` (the `queue` fixture's prefix)."""
    recorder = EventRecorder(client, "q:events")
    yield recorder
    recorder.close()


def enqueue(job_id: int, job_type: str) -> dict[str, Any]:
    return {"id": job_id, "event": "enqueue", "args": ["enqueue", job_type]}
