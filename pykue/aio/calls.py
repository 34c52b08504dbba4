"""Lua script calls on a redis.asyncio client, by the rules of the sync transport
(pykue/transport): EVALSHA, the script loaded and the call sent again after NOSCRIPT, and a
call sent again only when sending it failed, never once Redis may have run it (a retried
save could store a job twice).

Calls made by many coroutines in one turn of the event loop go out together: one write of
all of them on one connection, their replies read in order (a pipeline made by hand, as
the sync transport's lane). Fifty coroutines saving at once cost one round trip, not fifty
connections each with its own."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import NoScriptError

from ..lua import LuaScript

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
    client: redis.asyncio.Redis, script: LuaScript, keys: Sequence[str], arg_lists: Sequence[Sequence[Any]]
) -> list[Any]:
    """The replies of one call of ``script`` per argument list, in order; an error reply raises."""
    commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for args in arg_lists]
    batcher = _batcher(client)
    replies = await batcher.send(commands)
    refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if refused:
        await client.script_load(script.source)
        for i, reply in zip(refused, await batcher.send([commands[i] for i in refused])):
            replies[i] = reply
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            raise reply
    return replies


class Batcher:
    """Gathers the calls of one turn of the event loop into one round trip on one connection.
    Each batch is sent by a task of its own, so a caller cancelled meanwhile leaves the
    others' replies, and the connection, in order."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client = client
        self._pending: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """The replies to ``commands``, error replies as values."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._pending.append((commands, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)  # once every coroutine ready in this turn has added its calls
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[list[tuple[Any, ...]], asyncio.Future[list[Any]]]]) -> None:
        try:
            replies = await _send(self.client, [command for commands, _ in batch for command in commands])
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error if isinstance(error, Exception) else asyncio.CancelledError())
            if not isinstance(error, Exception):
                raise
            return
        start = 0
        for commands, future in batch:
            if not future.done():  # a caller cancelled meanwhile: its calls ran, nobody reads them
                future.set_result(replies[start : start + len(commands)])
            start += len(commands)


_batchers: weakref.WeakKeyDictionary[redis.asyncio.Redis, Batcher] = weakref.WeakKeyDictionary()


def _batcher(client: redis.asyncio.Redis) -> Batcher:
    batcher = _batchers.get(client)
    if batcher is None:
        batcher = _batchers[client] = Batcher(client)
    return batcher


async def _send(client: redis.asyncio.Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Send every command, then read every reply (error replies returned, not raised). A
    cancelled or failed read drops the connection: a reply left on it would answer the next
    caller."""
    pool = client.connection_pool
    for attempt in (1, 2):
        conn: Any = await pool.get_connection()  # type: ignore[no-untyped-call]
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
        finally:
            await pool.release(conn)
    raise AssertionError("unreachable")


async def _read(conn: Any) -> Any:
    try:
        return await conn.read_response()
    except redis.ResponseError as error:
        return error
