"""How pykue talks to Redis fast: the only module that knows.

Script calls go out as EVALSHA on a pooled connection, skipping redis-py's per-command
layers, which cost more than the round trip on hot paths: a held "lane" connection, calls in
flight (sent now, read later), a script right behind a blocking pop, pipelines. After a
SCRIPT FLUSH or a failover, a call is re-sent once its script is loaded, but only when Redis
cannot have run it.

Written against redis-py's public connection API (``get_connection``, ``release``,
``send_packed_command``, ``read_response``, ``pack_command``). One private name is used for
speed, here alone: ``Connection._command_packer``, to let hiredis pack a call directly
(tests/integration/test_transport.py fails loudly when a redis-py release changes it).
"""
from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.exceptions import NoScriptError

from .lua import LuaScript

_hiredis_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # the `fast` extra is optional
    _hiredis_pack = None

_SEND_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


def _fast_packer(conn: Any) -> bool:
    """redis-py hands commands to hiredis.pack_command when hiredis is installed, after a
    per-argument pass (~3 us for a save's dozen arguments) that pykue's plain str/int
    arguments do not need. The private name: redis-py's packer of the connection."""
    return type(getattr(conn, "_command_packer", None)).__name__ == "HiredisRespSerializer"


def _pack(conn: Any, command: tuple[Any, ...], fixed: Fixed | None = None) -> list[bytes]:
    """``command`` in RESP; with ``fixed`` (its first elements), only the rest is packed here."""
    if _hiredis_pack is not None and _fast_packer(conn):
        if fixed is None:
            return [_hiredis_pack(command)]
        rest = _hiredis_pack(command[fixed.count:])
        return [b"*%d\r\n%b%b" % (len(command), fixed.packed, rest[rest.index(b"\r\n") + 2:])]
    return list(conn.pack_command(*command))


def evalsha(script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> tuple[Any, ...]:
    return ("EVALSHA", script.sha, len(keys), *keys, *args)


class Fixed:
    """The part of a script call that never changes (EVALSHA, the SHA1, a queue's fixed
    keys), packed once: packing it again costs more than a single save's own arguments."""

    __slots__ = ("script", "keys", "head", "count", "packed")

    def __init__(self, script: LuaScript, keys: Sequence[str]) -> None:
        self.script = script
        self.keys = tuple(keys)
        self.head = ("EVALSHA", script.sha, len(self.keys), *self.keys)
        self.count = len(self.head)
        packed = _hiredis_pack(self.head) if _hiredis_pack is not None else b"\r\n"
        self.packed = packed[packed.index(b"\r\n") + 2:]  # without the array header


# -- the lane: one connection a process keeps out of each plain pool ---------------------------

class _Lane:
    """One connection a process keeps checked out of a pool for script calls: taking one from
    redis-py's pool and giving it back costs ~9 us (locks, observability hooks), as much as a
    tenth of a single-job save. Whoever finds the lane busy uses the pool as usual. A held
    connection marked for reconnection (a server's maintenance notice, which the pool acts on
    at release) is reconnected when next taken.

    The pool keeps its checked-out connection alive; the lane refers to it weakly, since a
    connection refers to its pool: a strong reference here would keep every pool alive."""

    __slots__ = ("lock", "conn", "pid")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: weakref.ref[Any] | None = None
        self.pid = os.getpid()

_lanes: dict[int, _Lane] = {}  # by id(pool); a pool's entry goes with it (a WeakKeyDictionary costs 0.3 us a call)
_lanes_lock = threading.Lock()
os.register_at_fork(after_in_child=lambda: globals().update(_lanes_lock=threading.Lock()))
_LANE_MIN_POOL = 8  # a small pool keeps all its connections for everyone


def spares_a_connection(pool: Any) -> bool:
    """Whether pykue may keep one of the pool's connections for itself: a plain pool with
    room to spare, whose connections need no release hooks (not blocking, Sentinel or
    client-side-caching pools, nor credential-provider connections)."""
    kwargs = getattr(pool, "connection_kwargs", {})
    return (type(pool) is redis.ConnectionPool and getattr(pool, "cache", None) is None
            and (pool.max_connections or 2**31) >= _LANE_MIN_POOL and kwargs.get("credential_provider") is None)


def _lane_of(pool: Any) -> _Lane | None:
    lane = _lanes.get(id(pool))
    if lane is not None and lane.pid == os.getpid():
        return lane
    if not spares_a_connection(pool):
        return None
    with _lanes_lock:  # new, or inherited through a fork
        lane = _lanes.get(id(pool))
        if lane is None or lane.pid != os.getpid():
            if lane is None:  # before the pool's id can be reused, its entry is gone
                weakref.finalize(pool, _lanes.pop, id(pool), None)
            lane = _lanes[id(pool)] = _Lane()
    return lane


def _checkout(pool: Any) -> tuple[_Lane | None, Any]:
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


def _checkin(pool: Any, lane: _Lane | None, conn: Any) -> None:
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
        conn.connect()
        if conn.can_read():
            raise redis.ConnectionError("Connection has data")
    except _SEND_ERRORS:
        conn.disconnect()
        conn.connect()


def hold_connection(client: redis.Redis) -> Any:
    """A pooled connection to keep calls in flight on (:func:`send`), until :func:`return_connection`."""
    return client.connection_pool.get_connection()


def return_connection(client: redis.Redis, conn: Any) -> None:
    client.connection_pool.release(conn)


# -- calls ----------------------------------------------------------------------------------

def load(client: redis.Redis, script: LuaScript) -> None:
    client.script_load(script.source)


def call(client: redis.Redis, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
    """One script call and its reply, through the lane; loaded and re-sent after NOSCRIPT."""
    return _call(client, script, ("EVALSHA", script.sha, len(keys), *keys, *args), None)


def call_fixed(client: redis.Redis, fixed: Fixed, args: Sequence[Any]) -> Any:
    """:func:`call` with its fixed part packed beforehand."""
    return _call(client, fixed.script, (*fixed.head, *args), fixed)


def _call(client: redis.Redis, script: LuaScript, command: tuple[Any, ...], fixed: Fixed | None) -> Any:
    try:
        return _direct(client, command, fixed)
    except NoScriptError:
        load(client, script)
        return _direct(client, command, fixed)


def _direct(client: redis.Redis, command: tuple[Any, ...], fixed: Fixed | None = None) -> Any:
    """A call is re-sent only when sending failed (Redis cannot have run it); a connection
    lost while waiting for the reply raises, since the script may have run (a retried save
    could store the job twice)."""
    pool = client.connection_pool
    for attempt in (1, 2):
        lane, conn = _checkout(pool)
        try:
            try:
                conn.send_packed_command(_pack(conn, command, fixed))
            except _SEND_ERRORS:
                conn.disconnect()
                if attempt == 2:
                    raise
                continue
            reply = conn.read_response()
        except redis.ResponseError:
            raise
        except BaseException:
            conn.disconnect()  # a half-read reply must not be left on a pooled connection
            raise
        finally:
            _checkin(pool, lane, conn)
        if isinstance(reply, redis.ResponseError):
            raise reply
        return reply
    raise AssertionError("unreachable")


def call_many(client: redis.Redis, script: LuaScript, keys: Sequence[str], arg_lists: Sequence[Sequence[Any]],
              meanwhile: Callable[[], Any] | None = None) -> list[Any]:
    """Several calls sent together on one connection (a pipeline by hand), with the rule of
    :func:`call`: re-sent only if sending failed, never after Redis may have run them.
    ``meanwhile`` runs once all are sent, while Redis works on them.

    A call refused with NOSCRIPT did nothing, so only the refused calls go again once the
    script is loaded: a SCRIPT FLUSH between two calls leaves the first ones done."""
    commands = [evalsha(script, keys, args) for args in arg_lists]
    replies = _many(client, commands, meanwhile)
    refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if refused:
        load(client, script)
        for i, reply in zip(refused, _many(client, [commands[i] for i in refused], None)):
            replies[i] = reply
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            raise reply
    return replies


def _many(client: redis.Redis, commands: list[tuple[Any, ...]], meanwhile: Callable[[], Any] | None) -> list[Any]:
    """Each call is packed and sent as soon as the previous one is out, so Redis runs the
    first while the next are still being packed. Error replies are returned, not raised."""
    pool = client.connection_pool
    for attempt in (1, 2):
        lane, conn = _checkout(pool)
        sent = 0
        try:
            try:
                for command in commands:  # a health check's PING once calls are out would read their replies
                    conn.send_packed_command(_pack(conn, command), check_health=not sent)
                    sent += 1
            except _SEND_ERRORS:
                conn.disconnect()
                if attempt == 2 or sent:  # a call already sent may have run
                    raise
                continue
            if meanwhile is not None:
                meanwhile()
            replies = [_read(conn) for _ in commands]
        except BaseException:
            conn.disconnect()
            raise
        finally:
            _checkin(pool, lane, conn)
        return replies
    raise AssertionError("unreachable")


def _read(conn: Any) -> Any:
    """The next reply on ``conn``, an error reply as a ResponseError value."""
    try:
        return conn.read_response()
    except redis.ResponseError as error:
        return error


def call_behind(client: redis.Redis, command: tuple[Any, ...], script: LuaScript, keys: Sequence[str],
                args: Sequence[Any]) -> tuple[Any, Any]:
    """``command`` (a blocking pop) with the script right behind it on one connection, sent
    together: Redis runs the script as soon as it has served the command, so both replies
    come in one round trip. Returns both, an error reply as a ResponseError value (the
    script runs even when the command failed, so its reply must still be read; a
    NoScriptError means it did not run). A connection lost meanwhile raises: the script
    may have run.

    A pooled connection of its own, not the lane: a blocking call holds it for seconds."""
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        conn.send_packed_command(_pack(conn, command) + _pack(conn, evalsha(script, keys, args)))
        replies = (_read(conn), _read(conn))
    except BaseException:
        conn.disconnect()  # a reply left unread must not stay on a pooled connection
        raise
    finally:
        pool.release(conn)
    return replies


def send(conn: Any, script: LuaScript, keys: Sequence[str], args: Sequence[Any], check_health: bool = True) -> None:
    """Send a call on ``conn`` without reading its reply: several may be out at once on
    one connection, their replies read later in order with ``conn.read_response()``.
    Only with nothing out may redis-py run a due health check: its PING would read the
    reply of a call in flight."""
    conn.send_packed_command(_pack(conn, evalsha(script, keys, args)), check_health=check_health)


def queue_in(pipe: Any, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Add the call to a redis-py pipeline; run the pipeline with :func:`execute_pipeline`."""
    pipe.evalsha(script.sha, len(keys), *keys, *args)


def execute_pipeline(pipe: Any, scripts: Sequence[LuaScript]) -> list[Any]:
    """Run a non-transactional pipeline of EVALSHA calls, loading scripts it found missing.

    A NOSCRIPT reply means that call did nothing, so only those calls are sent again.
    """
    stack = list(pipe.command_stack)
    results = pipe.execute(raise_on_error=False)
    missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
    if missing:
        for script in scripts:
            pipe.script_load(script.source)
        pipe.execute()
        for i in missing:
            args, options = stack[i]  # redis-py keeps (args, options) tuples
            pipe.execute_command(*args, **options)
        for i, value in zip(missing, pipe.execute(raise_on_error=False)):
            results[i] = value
    for value in results:
        if isinstance(value, Exception):
            raise value
    return list(results)
