"""The lane: one connection a process keeps checked out of each plain pool for its script
calls, and the other connections pykue holds (the worker's, for calls in flight). Written
against redis-py's public pool API (``get_connection``, ``release``)."""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import redis

_SEND_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


class _Lane:
    """One connection a process keeps checked out of a pool for script calls: taking one from
    redis-py's pool and giving it back costs ~9 us (locks, observability hooks), as much as a
    tenth of a single-job save. Whoever finds the lane busy uses the pool as usual. A held
    connection marked for reconnection (a server's maintenance notice, which the pool acts on
    at release) is reconnected when next taken.

    The pool keeps its checked-out connection alive; the lane refers to it weakly, since a
    connection refers to its pool: a strong reference here would keep every pool alive."""

    __slots__ = ("lock", "conn")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: weakref.ref[Any] | None = None


_lanes: dict[int, _Lane] = {}  # by id(pool); a pool's entry goes with it (a WeakKeyDictionary costs 0.3 us a call)
_lanes_lock = threading.Lock()
_LANE_MIN_POOL = 8  # a small pool keeps all its connections for everyone


def _forget_lanes() -> None:
    """In a forked child: its parent's lanes are not its own."""
    globals().update(_lanes={}, _lanes_lock=threading.Lock())


os.register_at_fork(after_in_child=_forget_lanes)


def spares_a_connection(pool: Any) -> bool:
    """Whether pykue may keep one of the pool's connections for itself: a plain pool with
    room to spare, whose connections need no release hooks (not blocking, Sentinel or
    client-side-caching pools, nor credential-provider connections)."""
    kwargs = getattr(pool, "connection_kwargs", {})
    return (
        type(pool) is redis.ConnectionPool
        and getattr(pool, "cache", None) is None
        and (pool.max_connections or 2**31) >= _LANE_MIN_POOL
        and kwargs.get("credential_provider") is None
    )


def _lane_of(pool: Any) -> _Lane | None:
    lane = _lanes.get(id(pool))
    if lane is not None or not spares_a_connection(pool):
        return lane
    with _lanes_lock:
        lane = _lanes.get(id(pool))
        if lane is None:  # the finalizer drops the entry before the pool's id can be reused
            lanes = _lanes
            weakref.finalize(pool, lanes.pop, id(pool), None)
            lane = lanes[id(pool)] = _Lane()
    return lane


def checkout(pool: Any) -> tuple[_Lane | None, Any]:
    """The pool's lane connection if free, else a pooled one; give it back with :func:`checkin`."""
    lane = _lane_of(pool)
    if lane is None or not lane.lock.acquire(blocking=False):
        return None, pool.get_connection()
    try:
        conn = lane.conn() if lane.conn is not None else None
        if conn is None:  # none yet, or the pool dropped it (a reset)
            conn = pool.get_connection()
            lane.conn = weakref.ref(conn)
        else:
            ready(conn)
    except BaseException:
        lane.lock.release()
        raise
    return lane, conn


def checkin(pool: Any, lane: _Lane | None, conn: Any) -> None:
    if lane is None:
        pool.release(conn)
    else:
        lane.lock.release()


def ready(conn: Any) -> None:
    """What the pool checks on checkout and release, for a connection pykue holds: connected,
    not marked for reconnection, and nothing unread (a server that closed an idle connection,
    after a restart or its `timeout`, leaves an EOF to read)."""
    if getattr(conn, "should_reconnect", bool)():
        conn.disconnect()
    try:
        if conn.can_read():  # connects first if it is not connected
            raise redis.ConnectionError("Connection has data")
    except _SEND_ERRORS:
        conn.disconnect()
        conn.connect()
