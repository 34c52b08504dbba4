"""How pykue talks to Redis fast: the only module that knows.

Script calls go out as FCALL or EVALSHA (``functions``) on a pooled connection, skipping redis-py's per-command
layers, which cost more than the round trip on hot paths: a held "lane" connection, calls in
flight (sent now, read later), a script right behind a blocking pop, pipelines. After a
SCRIPT FLUSH or a failover, a call is re-sent once its script is loaded, but only when Redis
cannot have run it.

Written against redis-py's public connection API (``get_connection``, ``release``,
``send_packed_command``, ``read_response``, ``pack_command``); the held connections are in
``lane.py``. One private name is used for speed, here alone: ``Connection._command_packer``,
to let hiredis pack a call directly (tests/integration/test_transport.py fails loudly when a
redis-py release changes it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.exceptions import NoScriptError

from ..lua import LuaScript
from . import durable, functions
from .lane import _SEND_ERRORS, checkin, checkout, ready, spares_a_connection

__all__ = [
    "Fixed",
    "call",
    "call_behind",
    "call_fixed",
    "call_many",
    "execute_pipeline",
    "load",
    "queue_in",
    "ready",
    "send",
    "spares_a_connection",
]

_hiredis_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # the `fast` extra is optional
    _hiredis_pack = None


def _fast_packer(conn: Any) -> bool:
    """redis-py hands commands to hiredis.pack_command when hiredis is installed, after a
    per-argument pass (~3 us for a save's dozen arguments) that pykue's plain str/int
    arguments do not need. The private name: redis-py's packer of the connection."""
    return type(getattr(conn, "_command_packer", None)).__name__ == "HiredisRespSerializer"


def _pack(conn: Any, command: tuple[Any, ...], fixed: Fixed | None = None) -> list[bytes]:
    """``command`` in RESP; with ``fixed``, ``command`` is what follows its fixed part."""
    if _hiredis_pack is not None and _fast_packer(conn):
        if fixed is None:
            return [_hiredis_pack(command)]
        rest = _hiredis_pack(command)
        return [b"".join((_array_header(fixed.count + len(command)), fixed.packed, rest[rest.index(b"\r\n") + 2 :]))]
    if fixed is not None:
        command = (*fixed.head, *command)
    return list(conn.pack_command(*command))


_HEADERS: dict[int, bytes] = {}


def _array_header(n: int) -> bytes:
    header = _HEADERS.get(n)
    if header is None:
        header = _HEADERS[n] = b"*%d\r\n" % n
    return header


def script_call(script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> tuple[Any, ...]:
    return (*functions.head(script), len(keys), *keys, *args)


class Fixed:
    """The part of a script call that never changes (FCALL and the function's name, or
    EVALSHA and the SHA1; a queue's fixed keys), packed once: packing it again costs more than
    a single save's own arguments."""

    __slots__ = ("script", "keys", "count", "_heads")

    def __init__(self, script: LuaScript, keys: Sequence[str]) -> None:
        self.script = script
        self.keys = tuple(keys)
        self.count = 3 + len(self.keys)
        self._heads: dict[tuple[str, str], tuple[tuple[Any, ...], bytes]] = {}

    @property
    def head(self) -> tuple[Any, ...]:
        return self._head()[0]

    @property
    def packed(self) -> bytes:
        """The head in RESP, without the array header."""
        return self._head()[1]

    def _head(self) -> tuple[tuple[Any, ...], bytes]:
        name = functions.head(self.script)
        both = self._heads.get(name)
        if both is None:
            head = (*name, len(self.keys), *self.keys)
            packed = _hiredis_pack(head) if _hiredis_pack is not None else b"\r\n"
            both = self._heads[name] = (head, packed[packed.index(b"\r\n") + 2 :])
        return both


# -- calls ----------------------------------------------------------------------------------


def load(client: redis.Redis, script: LuaScript, refusal: BaseException | None = None) -> None:
    """Load ``script`` after ``refusal`` (a NOSCRIPT or a refused FCALL), or ahead of its calls."""
    functions.load(client, script, refusal)


def call(client: redis.Redis, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
    """One script call and its reply, through the lane; loaded and re-sent after NOSCRIPT."""
    return _call(client, script, lambda: script_call(script, keys, args), None)


def call_fixed(client: redis.Redis, fixed: Fixed, args: Sequence[Any]) -> Any:
    """:func:`call` with its fixed part packed beforehand."""
    command = tuple(args)
    return _call(client, fixed.script, lambda: command, fixed)


def _call(client: redis.Redis, script: LuaScript, command: Callable[[], tuple[Any, ...]], fixed: Fixed | None) -> Any:
    """``command()`` is built again for the second try: a load may change its head (FCALL or EVALSHA)."""
    if functions.wants_loading(script):
        load(client, script)
    try:
        return _direct(client, command(), fixed)
    except NoScriptError as refusal:
        load(client, script, refusal)
        return _direct(client, command(), fixed)


def _direct(client: redis.Redis, command: tuple[Any, ...], fixed: Fixed | None = None) -> Any:
    """A call is re-sent only when sending failed (Redis cannot have run it); a connection
    lost while waiting for the reply raises, since the script may have run (a retried save
    could store the job twice)."""
    pool = client.connection_pool
    need = durable.required(pool)
    for attempt in (1, 2):
        lane, conn = checkout(pool)
        try:
            try:
                conn.send_packed_command(_pack(conn, command, fixed))
            except _SEND_ERRORS:
                conn.disconnect()
                if attempt == 2:
                    raise
                continue
            try:
                reply = conn.read_response()
            except redis.ResponseError as error:
                raise functions.checked(error) from None
            if need is not None:
                durable.confirm(conn, need)
        except redis.ResponseError:
            raise
        except BaseException:
            conn.disconnect()  # a half-read reply must not be left on a pooled connection
            raise
        finally:
            checkin(pool, lane, conn)
        if isinstance(reply, redis.ResponseError):
            raise functions.checked(reply)
        return reply
    raise AssertionError("unreachable")


def call_many(
    client: redis.Redis,
    script: LuaScript,
    keys: Sequence[str],
    arg_lists: Sequence[Sequence[Any]],
    meanwhile: Callable[[], Any] | None = None,
) -> list[Any]:
    """Several calls sent together on one connection (a pipeline by hand), with the rule of
    :func:`call`: re-sent only if sending failed, never after Redis may have run them.
    ``meanwhile`` runs once all are sent, while Redis works on them.

    A call refused with NOSCRIPT did nothing, so only the refused calls go again once the
    script is loaded: a SCRIPT FLUSH between two calls leaves the first ones done."""
    if functions.wants_loading(script):
        load(client, script)
    replies = _many(client, [script_call(script, keys, args) for args in arg_lists], meanwhile)
    refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if refused:
        load(client, script, replies[refused[0]])
        again = _many(client, [script_call(script, keys, arg_lists[i]) for i in refused], None)
        for i, reply in zip(refused, again):
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
        lane, conn = checkout(pool)
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
            need = durable.required(pool)
            if need is not None:
                durable.confirm(conn, need)
        except BaseException:
            conn.disconnect()
            raise
        finally:
            checkin(pool, lane, conn)
        return replies
    raise AssertionError("unreachable")


def _read(conn: Any) -> Any:
    """The next reply on ``conn``, an error reply as a ResponseError value."""
    try:
        return conn.read_response()
    except redis.ResponseError as error:
        return functions.checked(error)


def call_behind(client: redis.Redis, command: tuple[Any, ...], fixed: Fixed, args: Sequence[Any]) -> tuple[Any, Any]:
    """``command`` (a blocking pop) with the script right behind it on one connection, sent
    together: Redis runs the script as soon as it has served the command, so both replies
    come in one round trip. Returns both, an error reply as a ResponseError value (the
    script runs even when the command failed, so its reply must still be read; a
    NoScriptError means it did not run). A connection lost meanwhile raises: the script
    may have run.

    A pooled connection of its own, not the lane: a blocking call holds it for seconds."""
    if functions.wants_loading(fixed.script):
        load(client, fixed.script)
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        conn.send_packed_command(_pack(conn, command) + _pack(conn, tuple(args), fixed))
        replies = (_read(conn), _read(conn))
    except BaseException:
        conn.disconnect()  # a reply left unread must not stay on a pooled connection
        raise
    finally:
        pool.release(conn)
    return replies


def send(conn: Any, fixed: Fixed, args: Sequence[Any], check_health: bool = True) -> None:
    """Send a call on ``conn`` without reading its reply: several may be out at once on
    one connection, their replies read later in order with ``conn.read_response()``.
    Only with nothing out may redis-py run a due health check: its PING would read the
    reply of a call in flight."""
    conn.send_packed_command(_pack(conn, tuple(args), fixed), check_health=check_health)


def queue_in(pipe: Any, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> None:
    """Add the call to a redis-py pipeline; run the pipeline with :func:`execute_pipeline`."""
    pipe.execute_command(*script_call(script, keys, args))


def execute_pipeline(pipe: Any, scripts: Sequence[LuaScript]) -> list[Any]:
    """Run a non-transactional pipeline of script calls, loading scripts it found missing.

    A NOSCRIPT reply means that call did nothing, so only those calls are sent again. With
    durable writes on, a WAIT ends each round on the pipeline's connection.
    """
    stack = list(pipe.command_stack)
    need = durable.required(pipe.connection_pool)
    if need is not None:
        pipe.execute_command(*durable.wait_command(need))
    results = [functions.checked(r) for r in pipe.execute(raise_on_error=False)]
    if need is not None:
        durable.check(results.pop(), need)
    missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
    if missing:
        by_name = {name: script for script in scripts for name in (script.sha, script.function)}
        refusals = [results[i] for i in missing]
        refusal = next((r for r in refusals if getattr(r, "refuses_functions", False)), refusals[0])
        functions.load_in(pipe, scripts, refusal)
        for i in missing:
            args, options = stack[i]  # redis-py keeps (args, options) tuples
            script = by_name[args[1]]
            pipe.execute_command(*functions.head(script), *args[2:], **options)
        if need is not None:
            pipe.execute_command(*durable.wait_command(need))
        again = [functions.checked(r) for r in pipe.execute(raise_on_error=False)]
        if need is not None:
            durable.check(again.pop(), need)
        for i, value in zip(missing, again):
            results[i] = value
    for value in results:
        if isinstance(value, Exception):
            raise value
    return list(results)
