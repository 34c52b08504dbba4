"""The Lua transitions, loaded once per client, each behind one typed Python method.

Scripts live in ``scripts/*.lua``; a line ``--- @include "name"`` inlines
``scripts/includes/name.lua`` (once). Calls go out as EVALSHA; after a SCRIPT FLUSH or a
failover to a server that never saw them, the scripts are loaded again and the call
retried, so registration costs no round trip.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import redis
from redis.exceptions import NoScriptError

try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # the `fast` extra is optional
    _hiredis_pack = None

SCRIPT_DIR = Path(__file__).with_name("scripts")
_INCLUDE = re.compile(r'^--- @include "([\w-]+)"\s*$', re.M)


@lru_cache(maxsize=None)
def source(name: str) -> str:
    text = (SCRIPT_DIR / f"{name}.lua").read_text()
    seen: set[str] = set()

    def inline(match: re.Match[str]) -> str:
        include = match.group(1)
        if include in seen:
            return ""
        seen.add(include)
        return _INCLUDE.sub(inline, (SCRIPT_DIR / "includes" / f"{include}.lua").read_text())

    return _INCLUDE.sub(inline, text)


def _fast_packer(conn: Any) -> bool:
    """redis-py hands commands to hiredis.pack_command when hiredis is installed, after a
    per-argument pass (~3 us for a save's dozen arguments) that pykue's plain str/int arguments
    do not need."""
    return _hiredis_pack is not None and type(getattr(conn, "_command_packer", None)).__name__ == "HiredisRespSerializer"


def _pack(conn: Any, command: tuple[Any, ...]) -> list[bytes]:
    if _fast_packer(conn):
        return [_hiredis_pack(command)]
    return conn.pack_command(*command)


class _Lane:
    """One connection a process keeps checked out of a pool for script calls: taking one from
    redis-py's pool and giving it back costs ~9 us (locks, observability hooks), as much as a
    tenth of a single-job save. Whoever finds the lane busy uses the pool as usual. Only plain
    pools get a lane: not blocking, Sentinel or client-side-caching pools, nor
    credential-provider connections, whose release hooks matter. A held connection marked for
    reconnection (a server's maintenance notice, which the pool acts on at release) is
    reconnected when next taken."""

    __slots__ = ("lock", "conn", "pid")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: Any = None
        self.pid = os.getpid()


_lanes_lock = threading.Lock()
os.register_at_fork(after_in_child=lambda: globals().update(_lanes_lock=threading.Lock()))
_LANE_MIN_POOL = 8  # a small pool keeps all its connections for everyone


def spares_a_connection(pool: Any) -> bool:
    """Whether pykue may keep one of the pool's connections for itself: a plain pool with
    room to spare, whose connections need no release hooks."""
    kwargs = getattr(pool, "connection_kwargs", {})
    return (type(pool) is redis.ConnectionPool and getattr(pool, "cache", None) is None
            and (pool.max_connections or 2**31) >= _LANE_MIN_POOL and kwargs.get("credential_provider") is None)


def _checkout(pool: Any) -> tuple[_Lane | None, Any]:
    lane = getattr(pool, "_pykue_lane", None)
    if lane is None or lane.pid != os.getpid():  # new, or inherited through a fork
        if not spares_a_connection(pool):
            return None, pool.get_connection()
        with _lanes_lock:
            lane = getattr(pool, "_pykue_lane", None)
            if lane is None or lane.pid != os.getpid():
                lane = _Lane()
                pool._pykue_lane = lane
    if not lane.lock.acquire(blocking=False):
        return None, pool.get_connection()
    try:
        if lane.conn is None:
            lane.conn = pool.get_connection()
        else:
            ready(lane.conn)
    except BaseException:
        lane.lock.release()
        raise
    return lane, lane.conn


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
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        conn.disconnect()
        conn.connect()


def _checkin(pool: Any, lane: _Lane | None, conn: Any) -> None:
    if lane is None:
        pool.release(conn)
    else:
        lane.lock.release()


class LuaScript:
    def __init__(self, name: str) -> None:
        self.name = name
        self.source = source(name)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    def __call__(self, client: redis.Redis, args: Sequence[Any], keys: Sequence[str] = ()) -> Any:
        call = (self.sha, len(keys), *keys, *args)
        try:
            return self._direct(client, call)
        except NoScriptError:
            client.script_load(self.source)
            return self._direct(client, call)

    @staticmethod
    def _direct(client: redis.Redis, args: tuple[Any, ...]) -> Any:
        """EVALSHA on a connection of the client's pool, skipping the per-command layers of
        redis-py that cost more than the round trip on hot paths (one job saved per call).

        A call is re-sent only when sending failed (Redis cannot have run it); a connection
        lost while waiting for the reply raises, since the script may have run (a retried
        save could store the job twice).
        """
        for attempt in (1, 2):
            lane, conn = _checkout(client.connection_pool)
            try:
                try:
                    conn.send_packed_command(_pack(conn, ("EVALSHA", *args)))
                except (redis.ConnectionError, redis.TimeoutError, OSError):
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
                _checkin(client.connection_pool, lane, conn)
            if isinstance(reply, redis.ResponseError):
                raise reply
            return reply
        raise AssertionError("unreachable")

    def call_many(self, client: redis.Redis, arg_lists: Sequence[Sequence[Any]],
                  meanwhile: Callable[[], Any] | None = None) -> list[Any]:
        """Several calls sent together on one connection (a pipeline by hand), with the rule of
        ``_direct``: re-sent only if sending failed, never after Redis may have run them.
        ``meanwhile`` runs once all are sent, while Redis works on them.

        A call refused with NOSCRIPT did nothing, so only the refused calls go again once the
        script is loaded: a SCRIPT FLUSH between two calls leaves the first ones done."""
        replies = self._many(client, arg_lists, meanwhile)
        refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if refused:
            client.script_load(self.source)
            for i, reply in zip(refused, self._many(client, [arg_lists[i] for i in refused], None)):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise reply
        return replies

    def _many(self, client: redis.Redis, arg_lists: Sequence[Sequence[Any]],
              meanwhile: Callable[[], Any] | None) -> list[Any]:
        """Each call is packed and sent as soon as the previous one is out, so Redis runs the
        first while the next are still being packed. Error replies are returned, not raised."""
        pool = client.connection_pool
        commands = [("EVALSHA", self.sha, 0, *args) for args in arg_lists]
        for attempt in (1, 2):
            lane, conn = _checkout(pool)
            sent = 0
            try:
                try:
                    for command in commands:  # a health check's PING once calls are out would read their replies
                        conn.send_packed_command(_pack(conn, command), check_health=not sent)
                        sent += 1
                except (redis.ConnectionError, redis.TimeoutError, OSError):
                    conn.disconnect()
                    if attempt == 2 or sent:  # a call already sent may have run
                        raise
                    continue
                if meanwhile is not None:
                    meanwhile()
                replies = []
                for _ in commands:
                    try:
                        replies.append(conn.read_response())
                    except redis.ResponseError as error:
                        replies.append(error)
            except BaseException:
                conn.disconnect()
                raise
            finally:
                _checkin(pool, lane, conn)
            return replies
        raise AssertionError("unreachable")

    def call_behind(self, client: redis.Redis, command: tuple[Any, ...], args: Sequence[Any]) -> tuple[Any, Any]:
        """``command`` (a blocking pop) with this script right behind it on one connection, sent
        together: Redis runs the script as soon as it has served the command, so both replies
        come in one round trip. Returns both, an error reply as a ResponseError value (the
        script runs even when the command failed, so its reply must still be read; a
        NoScriptError means it did not run). A connection lost meanwhile raises: the script
        may have run.

        A pooled connection of its own, not the lane: a blocking call holds it for seconds."""
        pool = client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command(_pack(conn, command) + _pack(conn, ("EVALSHA", self.sha, 0, *args)))
            replies = []
            for _ in range(2):
                try:
                    replies.append(conn.read_response())
                except redis.ResponseError as error:
                    replies.append(error)
        except BaseException:
            conn.disconnect()  # a reply left unread must not stay on a pooled connection
            raise
        finally:
            pool.release(conn)
        return replies[0], replies[1]

    def send(self, conn: Any, args: Sequence[Any], check_health: bool = True) -> None:
        """Send a call on ``conn`` without reading its reply: several may be out at once on
        one connection, their replies read later in order with ``conn.read_response()``.
        Only with nothing out may redis-py run a due health check: its PING would read the
        reply of a call in flight."""
        conn.send_packed_command(_pack(conn, ("EVALSHA", self.sha, 0, *args)), check_health=check_health)

    def queue_in(self, pipe: Any, args: Sequence[Any], keys: Sequence[str] = ()) -> None:
        """Add the call to a pipeline; run the pipeline with :func:`execute_pipeline`."""
        pipe.evalsha(self.sha, len(keys), *keys, *args)


def execute_pipeline(pipe: Any, scripts: Sequence[LuaScript]) -> list[Any]:
    """Run a non-transactional pipeline of EVALSHA calls, loading scripts it found missing.

    A NOSCRIPT reply means that call did nothing, so only those calls are sent again.
    """
    stack = list(pipe.command_stack)
    results = pipe.execute(raise_on_error=False)
    missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
    if missing:
        client = pipe
        for script in scripts:
            client.script_load(script.source)
        client.execute()
        for i in missing:
            args, options = stack[i]  # redis-py keeps (args, options) tuples
            client.execute_command(*args, **options)
        for i, value in zip(missing, client.execute(raise_on_error=False)):
            results[i] = value
    for value in results:
        if isinstance(value, Exception):
            raise value
    return results


class Scripts:
    """Every transition pykue makes, as methods. ``base`` is the key prefix with its colon."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._save_jobs = LuaScript("save_jobs")
        self._set_state = LuaScript("set_state")
        self._set_priority = LuaScript("set_priority")
        self._remove_job = LuaScript("remove_job")
        self._log_job = LuaScript("log_job")
        self._progress_job = LuaScript("progress_job")
        self._claim_jobs = LuaScript("claim_jobs")
        self._claim_woken = LuaScript("claim_woken")
        self._complete_jobs = LuaScript("complete_jobs")
        self._fail_job = LuaScript("fail_job")
        self._tick = LuaScript("tick")
        self._release_job = LuaScript("release_job")

    def all(self) -> list[LuaScript]:
        return [v for v in vars(self).values() if isinstance(v, LuaScript)]

    def save_jobs(self, client: redis.Redis, now: int, encoded_jobs: list[list[Any]]) -> list[int]:
        return [int(i) for i in self._save_jobs(client, self._save_args(now, encoded_jobs))]

    def save_job_chunks(self, client: redis.Redis, now: int, chunks: list[list[list[Any]]],
                        meanwhile: Callable[[], Any] | None = None) -> list[int]:
        """Many chunks of jobs, one script call each, sent together; the ids in order.
        ``meanwhile`` runs while Redis saves them."""
        groups = self._save_jobs.call_many(client, [self._save_args(now, chunk) for chunk in chunks], meanwhile)
        return [int(i) for group in groups for i in group]

    def _save_args(self, now: int, encoded_jobs: list[list[Any]]) -> list[Any]:
        args: list[Any] = [self.base, now]
        for job_args in encoded_jobs:
            args.extend(job_args)
        return args

    def execute(self, pipe: Any) -> list[Any]:
        return execute_pipeline(pipe, self.all())

    def set_state(self, client: redis.Redis, job_id: int, state: str, now: int) -> str | None:
        return self._set_state(client, [self.base, job_id, state, now])

    def set_priority(self, client: redis.Redis, job_id: int, priority: int, now: int) -> bool:
        return bool(self._set_priority(client, [self.base, job_id, priority, now]))

    def remove_job(self, client: redis.Redis, job_id: int) -> str | None:
        return self._remove_job(client, [self.base, job_id])

    def log_job(self, client: redis.Redis, job_id: int, line: str, now: int, claim: str = "") -> int:
        return int(self._log_job(client, [self.base, job_id, line, now, claim]))

    def progress_job(self, client: redis.Redis, job_id: int, percent: int, data_json: str,
                     now: int, claim: str = "") -> int:
        return int(self._progress_job(client, [self.base, job_id, percent, data_json, now, claim]))

    def claim_jobs(self, client: redis.Redis, now: int, worker_id: str, wanted: dict[str, int],
                   popped: int = 0, popped_type: str = "") -> list["Claimed"]:
        """(id, claim, hash as it was) for each job claimed."""
        args: list[Any] = [self.base, now, worker_id, popped, popped_type]
        for job_type, n in wanted.items():
            args.extend((job_type, n))
        return parse_claimed(self._claim_jobs(client, args))

    def wait_and_claim(self, client: redis.Redis, wait_keys: Sequence[str], timeout: float, worker_id: str,
                       wake_key: str, clock_offset_ms: int, wanted: dict[str, int]) -> "Woken":
        """BLPOP on ``wait_keys`` (the worker's ``wake_key`` among them) for up to ``timeout``
        seconds, and claim for ``wanted`` as soon as it returns, in the same round trip
        (claim_woken.lua). After a NOSCRIPT the script is loaded but nothing was claimed:
        ``claimed`` is None."""
        args: list[Any] = [self.base, worker_id, wake_key, clock_offset_ms]
        for job_type, n in wanted.items():
            args.extend((job_type, n))
        seconds = int(timeout) if timeout >= 1 else timeout  # Redis before 6.0 takes whole seconds only
        popped, reply = self._claim_woken.call_behind(client, ("BLPOP", *wait_keys, seconds), args)
        error = popped if isinstance(popped, redis.ResponseError) else None
        popped_key = popped[0] if popped and error is None else None
        if isinstance(reply, NoScriptError):
            self.load_claim_woken(client)
            return Woken(popped_key, 0, {}, None, error)
        if isinstance(reply, redis.ResponseError):
            return Woken(popped_key, 0, {}, None, reply)
        now, counts, flat = reply
        per_type = {counts[i]: (int(counts[i + 1]), int(counts[i + 2])) for i in range(0, len(counts), 3)}
        return Woken(popped_key, int(now), per_type, parse_claimed(flat), error)

    def load_claim_woken(self, client: redis.Redis) -> None:
        """Load it ahead of a worker's first wait: a NOSCRIPT there costs a detour."""
        client.script_load(self._claim_woken.source)

    def complete_jobs(self, client: redis.Redis, now: int, done: list[tuple[int, str, str]],
                      worker_id: str = "", refill: dict[str, int] | None = None,
                      claimed_at: int | None = None) -> "Completion":
        """Complete (id, claim, result JSON) jobs as of ``now``; with a worker id, also claim
        for it up to ``refill[type]`` more jobs of each type as of ``claimed_at``, in the same call."""
        args = self._complete_args(now, done, worker_id, refill, claimed_at)
        return parse_completion(self._complete_jobs(client, args))

    def send_complete_jobs(self, conn: Any, now: int, done: list[tuple[int, str, str]], worker_id: str,
                           refill: dict[str, int], claimed_at: int, check_health: bool = True) -> None:
        """complete_jobs sent on a connection the caller holds, its reply to be read with
        ``conn.read_response()`` and ``parse_completion`` (a NoScriptError: it did not run).
        ``check_health`` must be False while other calls' replies are unread on ``conn``."""
        self._complete_jobs.send(conn, self._complete_args(now, done, worker_id, refill, claimed_at), check_health)

    def queue_complete_jobs(self, pipe: Any, now: int, done: list[tuple[int, str, str]]) -> None:
        """complete_jobs (no refill) in a pipeline; its reply goes through ``parse_completion``."""
        self._complete_jobs.queue_in(pipe, self._complete_args(now, done, "", None, None))

    def _complete_args(self, now: int, done: list[tuple[int, str, str]], worker_id: str,
                       refill: dict[str, int] | None, claimed_at: int | None) -> list[Any]:
        pairs = [(t, n) for t, n in (refill or {}).items() if n > 0] if worker_id else []
        args: list[Any] = [self.base, now, worker_id, claimed_at or now, len(pairs)]
        for pair in pairs:
            args.extend(pair)
        for item in done:
            args.extend(item)
        return args

    def queue_fail_job(self, pipe: Any, job_id: int, claim: str, now: int, error: str, summary: str,
                       message_json: str, retry_delay: int, ttl: bool = False) -> None:
        self._fail_job.queue_in(pipe, [self.base, job_id, claim, now, error, summary, message_json, retry_delay,
                                       "ttl" if ttl else ""])

    def tick(self, client: redis.Redis, now: int, limit: int, worker_id: str, lease_key: str, lease_ms: int,
             find_stalled: bool, reconcile_types: list[str]) -> "Tick":
        promoted, expired, stalled, paused, mine = self._tick(
            client, [self.base, now, limit, lease_key, lease_ms, "1" if find_stalled else "0", worker_id,
                     *reconcile_types])
        return Tick(int(promoted), _pairs(expired), _pairs(stalled), set(paused), _pairs(mine))

    def release_job(self, client: redis.Redis, job_id: int, claim: str, now: int, line: str) -> bool:
        return bool(self._release_job(client, [self.base, job_id, claim, now, line]))


class Tick(NamedTuple):
    promoted: int
    expired: list[tuple[int, str]]
    stalled: list[tuple[int, str]]
    paused: set[str]
    mine: list[tuple[int, str]]


def _pairs(flat: list[Any]) -> list[tuple[int, str]]:
    return [(int(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]


class Claimed(NamedTuple):
    id: int
    claim: str
    fields: dict[str, str]


class Woken(NamedTuple):
    popped_key: str | None  # the key BLPOP popped from; None after a timeout or an error
    claimed_at: int  # the claim's time (ms, the worker's clock); -1: skipped for the worker's wake-up
    counts: dict[str, tuple[int, int]]  # per type claimed from: (jobs claimed, tokens consumed)
    claimed: list[Claimed] | None  # None: the script did not run (NOSCRIPT) or failed (error)
    error: redis.ResponseError | None = None  # the BLPOP's or the script's error reply


class Completion(NamedTuple):
    replies: list[int]  # per completed job: 1, or 0 when its claim no longer held
    claimed: list[Claimed]  # the jobs claimed to refill the freed slots


def parse_claimed(flat: list[Any]) -> list[Claimed]:
    claimed, i = [], 0
    while i < len(flat):
        job_id, claim, n_fields = int(flat[i]), flat[i + 1], int(flat[i + 2])
        values = flat[i + 3:i + 3 + 2 * n_fields]
        claimed.append(Claimed(job_id, claim, dict(zip(values[::2], values[1::2]))))
        i += 3 + 2 * n_fields
    return claimed


def parse_completion(reply: list[Any]) -> Completion:
    replies, flat = reply
    return Completion(list(replies), parse_claimed(flat))
