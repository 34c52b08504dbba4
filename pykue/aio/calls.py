"""Lua script calls on a redis.asyncio client, by the rules of the sync transport
(pykue/transport): FCALL or EVALSHA, the script loaded and the call sent again after NOSCRIPT
(or a refused FCALL), and a
call sent again only when sending it failed, never once Redis may have run it (a retried
save could store a job twice).

Calls made by many coroutines go out together: one write of a batch of them on a connection
a lane holds, their replies read in order (a pipeline made by hand, as the sync transport's
lane). Fifty coroutines saving at once cost a round trip or two, not fifty connections each
with its own."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import NoScriptError

from ..lua import LuaScript
from ..transport import durable, functions

_SEND_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

_hiredis_pack: Any
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # the `fast` extra is optional
    _hiredis_pack = None


def _pack(conn: Any, commands: list[tuple[Any, ...]]) -> list[bytes]:
    """As the sync transport packs (pykue/transport): straight through hiredis when the
    connection would use it anyway, skipping redis-py's per-argument pass (pykue's arguments
    are plain str and int); tests/integration/test_transport.py watches the private name."""
    if _hiredis_pack is not None and type(getattr(conn, "_command_packer", None)).__name__ == "HiredisRespSerializer":
        return [b"".join([_hiredis_pack(command) for command in commands])]
    return list(conn.pack_commands(commands))


async def call_many(
    client: redis.asyncio.Redis,
    script: LuaScript,
    keys: Sequence[str],
    arg_lists: Sequence[Sequence[Any]],
    need: tuple[int, int] | None = None,
) -> list[Any]:
    """The replies of one call of ``script`` per argument list, in order; an error reply raises.
    ``need`` (replicas, timeout ms: the Queue's durable writes) sends a WAIT behind the calls,
    on their connection, and raises DurabilityError unless enough replicas acknowledged them."""
    if functions.wants_loading(script):
        await functions.aload(client, script)
    commands = [(*functions.head(script), len(keys), *keys, *args) for args in arg_lists]
    wait = [durable.wait_command(need)] if need else []
    batcher = _batcher(client)
    replies = await batcher.send(commands + wait)
    acknowledged = replies.pop() if need else None
    refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if refused:
        await functions.aload(client, script, replies[refused[0]])
        head = functions.head(script)
        retried = await batcher.send([(*head, *commands[i][2:]) for i in refused] + wait)
        if need:  # the retry may take another connection: each WAIT vouches for its own
            again = retried.pop()
            acknowledged = (
                min(acknowledged, again) if isinstance(acknowledged, int) and isinstance(again, int) else again
            )
        for i, reply in zip(refused, retried):
            replies[i] = reply
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            raise reply
    if need:
        durable.check(acknowledged, need)
    return replies


MAX_LANES = 4  # batches out at once per client: Python builds the next while Redis runs one


class Batcher:
    """The lanes of one client. A call joins the pending batch; a lane takes the whole batch
    and sends it, one write on a connection it holds (no pool round per call), then reads
    the replies in order. While one lane's batch is out, the calls that arrive start another
    lane (up to MAX_LANES), so Python prepares batches while Redis runs the last. Lanes are
    tasks of their own, so a caller cancelled meanwhile leaves the others' replies, and the
    connection, in order."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client = client
        self._pending: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]] = []
        self._lanes: set[asyncio.Task[None]] = set()
        self._starting = False  # a lane is on its way that will take the pending calls
        self._idle: list[Any] = []  # the lanes' connections, between their runs

    async def send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """The replies to ``commands``, error replies as values."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._pending.append((commands, future))
        if not self._starting and len(self._lanes) < MAX_LANES:
            self._starting = True  # it runs once this turn's coroutines have added their calls
            lane = loop.create_task(self._run_lane(), name="pykue-aio-lane")
            self._lanes.add(lane)  # held until done: the loop keeps only a weak reference
            lane.add_done_callback(self._lanes.discard)
        return await future

    async def _run_lane(self) -> None:
        conn = self._idle.pop() if self._idle else None
        try:
            while self._pending:
                self._starting = False  # calls from now on go to another lane, or to this one's next batch
                batch, self._pending = self._pending, []
                conn = await self._run(conn, batch)
        finally:
            if conn is not None:
                self._idle.append(conn)

    async def _run(self, conn: Any, batch: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]]) -> Any:
        """Send ``batch`` and hand each caller its replies (or the error); returns the connection."""
        try:
            if conn is None:
                conn = await self.client.connection_pool.get_connection()  # type: ignore[no-untyped-call]
            replies = await _send(conn, [command for commands, _ in batch for command in commands])
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error if isinstance(error, Exception) else asyncio.CancelledError())
            if not isinstance(error, Exception):
                raise
            return conn
        start = 0
        for commands, future in batch:
            if not future.done():  # a caller cancelled meanwhile: its calls ran, nobody reads them
                future.set_result(replies[start : start + len(commands)])
            start += len(commands)
        return conn


async def _send(conn: Any, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Send every command, then read every reply (error replies returned, not raised). A
    failed or cancelled read drops the connection (a reply left on it would answer the next
    batch); it connects again for the next."""
    for attempt in (1, 2):
        try:
            try:
                await conn.send_packed_command(_pack(conn, commands))
            except _SEND_ERRORS:
                await conn.disconnect()
                if attempt == 2 or len(commands) > 1:  # of several, the first may have run whole
                    raise
                continue
            return [await _read(conn) for _ in commands]
        except BaseException:
            await conn.disconnect()
            raise
    raise AssertionError("unreachable")


_batchers: weakref.WeakKeyDictionary[redis.asyncio.Redis, Batcher] = weakref.WeakKeyDictionary()


def _batcher(client: redis.asyncio.Redis) -> Batcher:
    batcher = _batchers.get(client)
    if batcher is None:
        batcher = _batchers[client] = Batcher(client)
    return batcher


async def _read(conn: Any) -> Any:
    try:
        return await conn.read_response()
    except redis.ResponseError as error:
        return functions.checked(error)
