"""Writes confirmed by replicas: an opt-in ``WAIT`` after each script call that stores a job
or moves it on (``Queue(..., durable_replicas=1)``).

Redis replicates asynchronously: a master that fails before its replica received a write
loses it, and the replica promoted in its place never saw it. ``WAIT n timeout`` on the
connection that wrote returns once ``n`` replicas acknowledged everything that connection
wrote, or at the timeout with how many did. Fewer than asked raises :class:`DurabilityError`,
so a save is never called saved unless a replica holds it (the write may still be on the
master: a retried save can store the job twice). The claims behind the worker's BLPOP are
not waited for: a claim lost in a failover only means the job is claimed again.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..exceptions import DurabilityError

_required: dict[int, tuple[int, int]] = {}  # (replicas, timeout ms) by id(pool); a pool's entry goes with it


def require(client: Any, replicas: int, timeout_ms: int) -> None:
    """From now on, each script call through ``client``'s pool waits for ``replicas``."""
    pool = client.connection_pool
    if not replicas:
        _required.pop(id(pool), None)
        return
    if id(pool) not in _required:
        weakref.finalize(pool, _required.pop, id(pool), None)
    _required[id(pool)] = (replicas, timeout_ms)


def required(pool: Any) -> tuple[int, int] | None:
    return _required.get(id(pool))


def wait_command(need: tuple[int, int]) -> tuple[str, int, int]:
    return ("WAIT", *need)


def confirm(conn: Any, need: tuple[int, int]) -> None:
    """WAIT on ``conn``, the connection that wrote; raise unless enough replicas acknowledged."""
    conn.send_command(*wait_command(need))
    check(conn.read_response(), need)


def check(acknowledged: Any, need: tuple[int, int]) -> None:
    if not isinstance(acknowledged, int) or acknowledged < need[0]:
        raise DurabilityError(
            f"only {acknowledged} of {need[0]} replica(s) acknowledged the write within {need[1]} ms: "
            "it may be lost if the master fails now"
        )
