"""FCALL or EVALSHA: how a script is called on the Redis at hand.

A hot script (pykue/lua.py) goes out as FCALL of its own function once this process has
loaded its library (FUNCTION LOAD answered, or said it was there already), which spares Redis
the definitions of its includes on every call; until then, and for every other script, as
EVALSHA. So a server or proxy that does not know Functions never sees an FCALL: the first
FUNCTION LOAD it refuses (an unknown or unsupported command, an ACL's NOPERM) turns Functions
off for the whole process, which then calls everything with EVALSHA, as one call per call
works on every server while remembering servers one by one would cost a lookup per call.
A load that fails for a passing reason (out of memory, a replica mid-failover, a dropped
connection) is tried again later. ``PYKUE_REDIS_FUNCTIONS=0`` turns Functions off from the start.

An FCALL refused before it ran (its library gone after a FUNCTION FLUSH or a restart, FCALL
disabled by itself) comes back as :class:`NotLoaded`, a ``NoScriptError``: every path that
loads a script and sends its call again after NOSCRIPT does the same here, and, as there,
only because Redis did not run it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis
from redis.exceptions import NoScriptError

from ..lua import LuaScript

log = logging.getLogger("pykue")

RETRY_LOAD_AFTER = 30.0  # seconds after a load that failed for a passing reason
_PASSING = (  # redis-py parses these replies into classes; the others keep their prefix
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.AskError,  # and MovedError
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.MasterDownError,
    redis.ConnectionError,
    redis.TimeoutError,
)
_PASSING_PREFIXES = ("BUSY", "NOREPLICAS", "UNBLOCKED")

_enabled = os.environ.get("PYKUE_REDIS_FUNCTIONS", "1").strip().lower() not in ("0", "false", "no", "off")
_loaded: set[str] = set()  # the functions this process loaded (on some server: another says "not found")
_failed_at: dict[str, float] = {}  # a function whose load failed for a passing reason: when
_lock = threading.Lock()


class NotLoaded(NoScriptError):
    """The call did not run: its function is not loaded on this server, or the server
    refuses FCALL (``refuses_functions``)."""

    def __init__(self, message: str, refuses_functions: bool = False) -> None:
        super().__init__(message)
        self.refuses_functions = refuses_functions


def enabled() -> bool:
    return _enabled


def disable(reason: object) -> None:
    """Functions off for the process: logged at INFO, since a Redis 6 says so to every process."""
    global _enabled
    if _enabled:
        log.info("Redis Functions refused (%s): pykue calls its scripts with EVALSHA from now on", reason)
    _enabled = False


def head(script: LuaScript) -> tuple[str, str]:
    """The command and the name a call of ``script`` starts with, now."""
    if _enabled and script.function in _loaded:
        return "FCALL", script.function
    return "EVALSHA", script.sha


def wants_loading(script: LuaScript) -> bool:
    """Whether a call of ``script`` should first load its library (:func:`load`): a hot
    script this process has not loaded yet, nor failed to load just now."""
    if not _enabled or script.function is None or script.function in _loaded:
        return False
    return not _failed_lately(script)


def checked(error: Any) -> Any:
    """``error`` (a reply or exception), as :class:`NotLoaded` when it refused a call that did
    not run; anything else unchanged."""
    if not isinstance(error, redis.ResponseError) or isinstance(error, NoScriptError):
        return error
    text = str(error)
    if text.startswith("Function not found"):
        return NotLoaded(text)
    lowered = text.lower()
    if "fcall" in lowered and ("command" in lowered or isinstance(error, redis.exceptions.NoPermissionError)):
        return NotLoaded(text, refuses_functions=True)
    return error


_LOAD_ERRORS = (redis.ResponseError, redis.ConnectionError, redis.TimeoutError)


def load(client: Any, script: LuaScript, refusal: BaseException | None = None) -> None:
    """Make the next call of ``script`` on ``client`` run: load its library where Functions
    are on (else, or if that fails, its source). ``refusal``: the error of the refused call
    that asks for it, if any."""
    if not (
        _library_wanted(script, refusal) and _settled(script, _reply_of(client.function_load, script.library), refusal)
    ):
        client.script_load(script.source)


async def aload(client: Any, script: LuaScript, refusal: BaseException | None = None) -> None:
    """:func:`load` on a redis.asyncio client."""
    if _library_wanted(script, refusal):
        try:
            reply = await client.function_load(script.library)
        except _LOAD_ERRORS as error:
            reply = error
        if _settled(script, reply, refusal):
            return
    await client.script_load(script.source)


def load_in(pipe: Any, scripts: Sequence[LuaScript], refusal: BaseException | None) -> None:
    """:func:`load` for each of ``scripts``, through a redis-py pipeline (``refusal``: one of
    the refused calls' errors, one that refused FCALL itself if any did)."""
    hot = [s for s in scripts if _library_wanted(s, refusal) and not _failed_lately(s)]
    for script in hot:
        pipe.function_load(script.library)
    try:
        replies = pipe.execute(raise_on_error=False) if hot else []
    except (redis.ConnectionError, redis.TimeoutError) as error:  # a proxy that drops the connection
        replies = [error] * len(hot)
    still = [s for s in scripts if s not in hot]
    still += [s for s, reply in zip(hot, replies) if not _settled(s, reply, refusal)]
    for script in still:
        pipe.script_load(script.source)
    pipe.execute()


def _library_wanted(script: LuaScript, refusal: BaseException | None) -> bool:
    if isinstance(refusal, NotLoaded) and refusal.refuses_functions:
        disable(refusal)
    return _enabled and script.library is not None


def _reply_of(call: Any, argument: Any) -> Any:
    try:
        return call(argument)
    except _LOAD_ERRORS as error:
        return error


def _settled(script: LuaScript, reply: Any, refusal: BaseException | None = None) -> bool:
    """Whether the library is there after FUNCTION LOAD answered ``reply``. "Already exists"
    right after an FCALL found no such function means the two reached different servers (a
    proxy, a switch of master between them): EVALSHA for a while then, as after a passing
    failure, or every call would be refused again."""
    if not isinstance(reply, Exception):
        _loaded_now(script)
        return True
    if "already exists" in str(reply) and isinstance(refusal, NotLoaded) and not refusal.refuses_functions:
        _not_now(script)
        return False
    return _outcome(script, reply)


def _failed_lately(script: LuaScript) -> bool:
    failed = _failed_at.get(script.function)  # type: ignore[arg-type]
    return failed is not None and time.monotonic() - failed <= RETRY_LOAD_AFTER


def _not_now(script: LuaScript) -> None:
    """EVALSHA for this script until :data:`RETRY_LOAD_AFTER` has passed: off the loaded set,
    so the call about to be re-sent goes as EVALSHA of the source loaded now."""
    with _lock:
        _loaded.discard(script.function)
        _failed_at[script.function] = time.monotonic()  # type: ignore[index]


def _loaded_now(script: LuaScript) -> None:
    with _lock:
        _loaded.add(script.function)  # type: ignore[arg-type]
        _failed_at.pop(script.function, None)  # type: ignore[arg-type]


def _outcome(script: LuaScript, error: BaseException) -> bool:
    """A failed FUNCTION LOAD: True if the library is there after all; otherwise Functions are
    off for good (a refusal, or a library Redis would not compile: a bug, logged as one) or
    for a while (a passing reason), and the caller loads the source instead."""
    text = str(error)
    if "already exists" in text:
        _loaded_now(script)
        return True
    if isinstance(error, _PASSING) or text.startswith(_PASSING_PREFIXES):
        _not_now(script)
        return False
    if "compil" in text.lower() or "regist" in text.lower():
        log.error("pykue's library %s did not load: %s", script.function, text)
    disable(error)
    return False
