"""Helpers for the worker tests (fixtures live in tests/integration/conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.workerapp.app import RUNS

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = "tests.workerapp.app"


def runs(client, kind: str | None = None) -> list[dict]:
    """What the test tasks recorded, oldest first (``kind`` filters)."""
    entries = [json.loads(line) for line in client.lrange(RUNS, 0, -1)]
    return [e for e in entries if kind is None or e["kind"] == kind]


def pykue_cli(
    *args: str, redis_url: str, timeout: float = 30.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m pykue ...`` from the repository root to its end (``env`` adds variables)."""
    env = {**os.environ, "PYKUE_REDIS_URL": redis_url, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pykue", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


class EventLog:
    """Every Kue event of a queue, as ``(id, event, args)``, via ``queue.on('job <event>')``."""

    NAMES = (
        "enqueue",
        "start",
        "promotion",
        "progress",
        "error",
        "failed attempt",
        "failed",
        "complete",
        "remove",
        "ttl exceeded",
        "ttl exceeded ack",
    )

    def __init__(self, queue) -> None:
        self.entries: list[tuple[int, str, tuple]] = []
        for name in self.NAMES:
            queue.on("job " + name, lambda job_id, *args, name=name: self.entries.append((job_id, name, args)))

    def of(self, job_id: int) -> list[str]:
        return [name for i, name, _ in list(self.entries) if i == job_id]

    def args(self, job_id: int, name: str) -> list[tuple]:
        return [args for i, n, args in list(self.entries) if i == job_id and n == name]
