"""The fleet's worker registry: which workers are alive and what they are doing.

Each worker process writes its record at every upkeep tick (heartbeat_worker.lua), and the
record lives exactly as long as the worker's lease: a worker that dies (SIGKILL, a lost
host) leaves nothing behind once its lease would have lapsed. Until then a reader sees its
heartbeat grow old and calls it ``stale``, which is what an operator needs to see. Reading
costs one ZRANGEBYSCORE on the index and one HGETALL per live worker, whatever the number
of jobs stored.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, cast

import redis

from .keys import Keys

#: Heartbeats missed before a worker is called stale (plus a second for scheduling jitter).
STALE_AFTER_BEATS = 3
#: The running jobs a record lists at most (a worker with 500 slots still writes a small record).
MAX_RUNNING_LISTED = 50


@dataclass(frozen=True)
class RunningJob:
    id: int
    type: str
    started_at: int | None  # ms since the epoch, as the job's hash says


@dataclass(frozen=True)
class WorkerInfo:
    """One worker process as its last heartbeat described it. Times are ms since the epoch
    (Redis's clock for ``heartbeat_at`` and ``seen_at``, the worker's for ``started_at``)."""

    id: str
    host: str
    pid: int
    started_at: int
    version: str
    types: dict[str, int]  # type -> concurrency
    paused: list[str]
    running: list[RunningJob]
    running_count: int
    processed: int
    failed: int
    heartbeat_every: float  # seconds between heartbeats
    heartbeat_at: int
    seen_at: int = 0  # Redis's time when this was read

    @property
    def heartbeat_age_ms(self) -> int:
        return max(0, self.seen_at - self.heartbeat_at)

    @property
    def stale(self) -> bool:
        """It missed several heartbeats: frozen, dead, or cut off from Redis; it ages out
        with its lease unless it comes back."""
        return self.heartbeat_age_ms > (STALE_AFTER_BEATS * self.heartbeat_every + 1) * 1000

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["stale"] = self.stale
        body["heartbeat_age_ms"] = self.heartbeat_age_ms
        return body


def record_json(
    worker_id: str,
    *,
    pid: int,
    started_at: int,
    version: str,
    types: Mapping[str, int],
    paused: Iterable[str],
    running: list[RunningJob],
    processed: int,
    failed: int,
    heartbeat_every: float,
) -> str:
    """The JSON a worker writes as its record (the heartbeat's time is added in Redis)."""
    listed = sorted(running, key=lambda r: r.id)[:MAX_RUNNING_LISTED]
    return json.dumps(
        {
            "id": worker_id,
            "host": socket.gethostname(),
            "pid": pid,
            "started_at": started_at,
            "version": version,
            "types": dict(types),
            "paused": sorted(paused),
            "running": [asdict(r) for r in listed],
            "running_count": len(running),
            "processed": processed,
            "failed": failed,
            "heartbeat_every": heartbeat_every,
        },
        separators=(",", ":"),
    )


def parse_record(fields: Mapping[str, str], seen_at: int) -> WorkerInfo | None:
    """A record as stored, or None when it is gone or unreadable (written by another version)."""
    try:
        body = json.loads(fields["info"])
        return WorkerInfo(
            id=str(body["id"]),
            host=str(body["host"]),
            pid=int(body["pid"]),
            started_at=int(body["started_at"]),
            version=str(body["version"]),
            types={str(t): int(n) for t, n in body["types"].items()},
            paused=[str(t) for t in body["paused"]],
            running=[RunningJob(int(r["id"]), str(r["type"]), r.get("started_at")) for r in body["running"]],
            running_count=int(body.get("running_count", len(body["running"]))),
            processed=int(body["processed"]),
            failed=int(body["failed"]),
            heartbeat_every=float(body["heartbeat_every"]),
            heartbeat_at=int(fields["heartbeat_at"]),
            seen_at=seen_at,
        )
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def read_workers(client: redis.Redis, keys: Keys) -> list[WorkerInfo]:
    """The workers whose records live, oldest first, in two round trips."""
    seconds, micros = client.time()
    now = seconds * 1000 + micros // 1000
    ids = cast("list[str]", client.zrangebyscore(keys.workers, now, "+inf"))
    if not ids:
        return []
    pipe = client.pipeline(transaction=False)
    for worker_id in ids:
        pipe.hgetall(keys.worker_record(worker_id))
    found = [parse_record(fields, now) for fields in pipe.execute()]
    return sorted((w for w in found if w is not None), key=lambda w: (w.started_at, w.id))
