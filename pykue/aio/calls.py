"""Lua script calls on a redis.asyncio client, by the rules of the sync transport
(pykue/transport): EVALSHA, the script loaded and the call sent again after NOSCRIPT, and a
call sent again only when sending it failed, never once Redis may have run it (a retried
save could store a job twice). Several calls go out together on one connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import NoScriptError

from ..lua import LuaScript

_SEND_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


async def call_many(
    client: redis.asyncio.Redis, script: LuaScript, keys: Sequence[str], arg_lists: Sequence[Sequence[Any]]
) -> list[Any]:
    """The replies of one call of ``script`` per argument list, in order; an error reply raises."""
    commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for args in arg_lists]
    replies = await _send(client, commands)
    refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if refused:
        await client.script_load(script.source)
        for i, reply in zip(refused, await _send(client, [commands[i] for i in refused])):
            replies[i] = reply
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            raise reply
    return replies


async def _send(client: redis.asyncio.Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Send every command, then read every reply (error replies returned, not raised). A
    cancelled or failed read drops the connection: a reply left on it would answer the next
    caller."""
    pool = client.connection_pool
    for attempt in (1, 2):
        conn: Any = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            try:
                await conn.send_packed_command(conn.pack_commands(commands))
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
