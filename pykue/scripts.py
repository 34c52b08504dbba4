"""Every transition pykue makes, as one typed method per Lua script.

Each method names the keys its script declares (built by ``keys.py``) and its arguments,
in the order the script's header lists them, and hands the call to ``transport``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis

from . import transport
from .keys import Keys
from .lua import SCRIPT_DIR, LuaScript, source
from .replies import (
    Claimed,
    Claims,
    Completion,
    ReplyCode,
    Tick,
    Woken,
    parse_claimed,
    parse_claims,
    parse_completion,
    parse_tick,
    parse_woken,
)
from .transport import execute_pipeline, ready, spares_a_connection

__all__ = [
    "SCRIPT_DIR",
    "Claimed",
    "Claims",
    "Completion",
    "LuaScript",
    "ReplyCode",
    "Scripts",
    "Tick",
    "Woken",
    "execute_pipeline",
    "parse_claimed",
    "parse_completion",
    "ready",
    "source",
    "spares_a_connection",
]


class Scripts:
    """The transitions of one queue (its ``keys``); every method takes the client first."""

    def __init__(self, keys: Keys | str) -> None:
        if isinstance(keys, str):  # the key base ("q:"), as this class once took
            keys = Keys(keys[:-1])
        self.keys = keys
        self.base = keys.base
        k = keys
        self._save_jobs = LuaScript("save_jobs", as_function=True)
        self._save_keys = (k.base, k.ids, k.types, k.jobs, k.state("inactive"), k.state("delayed"), k.events)
        self._save_one = transport.Fixed(self._save_jobs, self._save_keys)
        self._start_workflow = LuaScript("start_workflow")
        self._set_state = LuaScript("set_state")
        self._set_priority = LuaScript("set_priority")
        self._remove_job = LuaScript("remove_job")
        self._log_job = LuaScript("log_job")
        self._progress_job = LuaScript("progress_job")
        self._claim_jobs = LuaScript("claim_jobs", as_function=True)
        self._claim_calls: dict[str, transport.Fixed] = {}  # by worker id (its lease key)
        self._claim_woken = LuaScript("claim_woken", as_function=True)
        self._woken_calls: dict[str, transport.Fixed] = {}  # by worker id: its wake and lease keys
        self._complete_jobs = LuaScript("complete_jobs", as_function=True)
        self._fail_job = LuaScript("fail_job", as_function=True)
        self._tick = LuaScript("tick")
        self._release_job = LuaScript("release_job")
        self._heartbeat_worker = LuaScript("heartbeat_worker")
        self._cancel_job = LuaScript("cancel_job")
        self._clean = LuaScript("clean")
        self._complete_calls: dict[str, tuple[int, transport.Fixed]] = {}  # by worker id: (minute, its call)
        self._set_limits = LuaScript("set_limits")
        self._put_schedule = LuaScript("put_schedule")
        self._remove_schedule = LuaScript("remove_schedule")
        self._fire_schedule = LuaScript("fire_schedule")

    def all(self) -> list[LuaScript]:
        return [v for v in vars(self).values() if isinstance(v, LuaScript)]

    # -- saving -----------------------------------------------------------------------------

    def save_jobs(self, client: redis.Redis, now: int, encoded_jobs: list[list[Any]]) -> list[int]:
        ids = transport.call_fixed(client, self._save_one, _save_args(now, encoded_jobs))
        return [int(i) for i in ids]

    def save_job_chunks(
        self, client: redis.Redis, now: int, chunks: list[list[list[Any]]], meanwhile: Callable[[], Any] | None = None
    ) -> list[int]:
        """Many chunks of jobs, one script call each, sent together; the ids in order.
        ``meanwhile`` runs while Redis saves them."""
        groups = transport.call_many(
            client, self._save_jobs, self._save_keys, [_save_args(now, chunk) for chunk in chunks], meanwhile
        )
        return [int(i) for group in groups for i in group]

    def save_call(self, now: int, encoded_jobs: list[list[Any]]) -> tuple[LuaScript, tuple[str, ...], list[Any]]:
        """save_jobs.lua's script, keys and arguments for one call, for a caller that sends it
        on a client of its own (the asyncio producer, pykue/aio)."""
        return self._save_jobs, self._save_keys, _save_args(now, encoded_jobs)

    def start_workflow(self, client: redis.Redis, now: int, shape_json: str, steps: list[list[Any]]) -> int:
        """Reserve the ids of a workflow's steps, create the first ones, store the links of the
        rest; its id (its first step's job id)."""
        args: list[Any] = [now, len(steps), shape_json]
        for step in steps:
            args.extend(step)
        return int(transport.call(client, self._start_workflow, self._save_keys, args))

    # -- one job's transitions --------------------------------------------------------------

    def set_state(self, client: redis.Redis, job_id: int, state: str, now: int) -> str | None:
        k = self.keys
        old: str | None = transport.call(
            client, self._set_state, (k.base, k.job(job_id), k.events, *k.states), [job_id, state, now]
        )
        return old

    def set_priority(self, client: redis.Redis, job_id: int, priority: int, now: int) -> bool:
        k = self.keys
        reply = transport.call(
            client, self._set_priority, (k.base, k.job(job_id), k.jobs, *k.states), [job_id, priority, now]
        )
        return ReplyCode.of(reply) is ReplyCode.DONE

    def remove_job(self, client: redis.Redis, job_id: int) -> str | None:
        k = self.keys
        keys = (k.base, k.job(job_id), k.jobs, k.events, *k.states)
        jtype: str | None = transport.call(client, self._remove_job, keys, [job_id])
        return jtype

    def cancel_job(self, client: redis.Redis, job_id: int, now: int, error: str, message_json: str) -> int:
        """cancel_job.lua's reply: 1 cancelled, 2 finished already, 3 running (stopping), -1 no such job."""
        k = self.keys
        keys = (k.base, k.job(job_id), k.log(job_id), k.events, k.metric_at("failed", now), *k.states, k.jobs)
        return int(transport.call(client, self._cancel_job, keys, [job_id, now, error, message_json]))

    def clean(
        self, client: redis.Redis, state: str, job_type: str | None, cutoff: int, start: int, page: int, most: int
    ) -> tuple[int, int]:
        """One page of clean.lua over the jobs of ``state`` (of ``job_type``): (the rank to go
        on from, -1 at the end; the jobs removed)."""
        k = self.keys
        walked = k.type_state(job_type, state) if job_type else k.state(state)
        keys = (k.base, walked, k.jobs, k.events, *k.states)
        reply = transport.call(client, self._clean, keys, [state, cutoff, start, page, most])
        return int(reply[0]), int(reply[1])

    def log_job(self, client: redis.Redis, job_id: int, line: str, now: int, claim: str = "") -> ReplyCode:
        reply = transport.call(
            client, self._log_job, (self.keys.job(job_id), self.keys.log(job_id)), [line, now, claim]
        )
        return ReplyCode.of(reply)

    def progress_job(
        self, client: redis.Redis, job_id: int, percent: int, data_json: str, now: int, claim: str = ""
    ) -> ReplyCode:
        k = self.keys
        reply = transport.call(
            client,
            self._progress_job,
            (k.job(job_id), k.state("active"), k.events),
            [job_id, percent, data_json, now, claim],
        )
        return ReplyCode.of(reply)

    def release_job(self, client: redis.Redis, job_id: int, claim: str, now: int, line: str) -> bool:
        reply = transport.call(client, self._release_job, self._release_keys(job_id), [job_id, claim, now, line])
        return ReplyCode.of(reply) is ReplyCode.DONE

    def _release_keys(self, job_id: int) -> tuple[str, ...]:
        k = self.keys
        return (k.base, k.job(job_id), k.log(job_id), k.events, k.state("inactive"), k.state("active"))

    def queue_fail_job(
        self,
        pipe: Any,
        job_id: int,
        claim: str,
        now: int,
        error: str,
        summary: str,
        message_json: str,
        retry_delay: int,
        ttl: bool = False,
    ) -> None:
        """fail_job in a pipeline; its reply: attempts remaining + 1, or 0 (ReplyCode.CLAIM_LOST)."""
        k = self.keys
        keys = (k.base, k.job(job_id), k.log(job_id), k.events, k.metric_at("failed", now), *k.states, k.jobs)
        transport.queue_in(
            pipe,
            self._fail_job,
            keys,
            [job_id, claim, now, error, summary, message_json, retry_delay, "ttl" if ttl else ""],
        )

    def execute(self, pipe: Any) -> list[Any]:
        return execute_pipeline(pipe, self.all())

    # -- claiming and completing ------------------------------------------------------------

    def claim_jobs(
        self,
        client: redis.Redis,
        now: int,
        worker_id: str,
        wanted: dict[str, int],
        popped: int = 0,
        popped_type: str = "",
    ) -> Claims:
        """(id, claim, hash as it was) for each job claimed; nothing, with status NO_LEASE,
        when the worker has no lease."""
        args: list[Any] = [now, worker_id, popped, popped_type]
        for job_type, n in wanted.items():
            args.extend((job_type, n))
        return parse_claims(transport.call_fixed(client, self._claim_call(worker_id), args))

    def _claim_call(self, worker_id: str) -> transport.Fixed:
        call = self._claim_calls.get(worker_id)
        if call is None:
            k = self.keys
            keys = (k.base, k.events, k.state("inactive"), k.state("active"), k.worker_lease(worker_id))
            call = self._claim_calls[worker_id] = transport.Fixed(self._claim_jobs, keys)
        return call

    def wait_and_claim(
        self,
        client: redis.Redis,
        wait_keys: Sequence[str],
        timeout: float,
        worker_id: str,
        wake_key: str,
        clock_offset_ms: int,
        wanted: dict[str, int],
    ) -> Woken:
        """BLPOP on ``wait_keys`` (the worker's ``wake_key`` among them) for up to ``timeout``
        seconds, and claim for ``wanted`` as soon as it returns, in the same round trip
        (claim_woken.lua). After a NOSCRIPT the script is loaded but nothing was claimed:
        ``claimed`` is None."""
        args: list[Any] = [worker_id, clock_offset_ms]
        for job_type, n in wanted.items():
            args.extend((job_type, n))
        seconds = int(timeout) if timeout >= 1 else timeout  # Redis before 6.0 takes whole seconds only
        popped, reply = transport.call_behind(
            client, ("BLPOP", *wait_keys, seconds), self._woken_call(worker_id, wake_key), args
        )
        if isinstance(reply, redis.exceptions.NoScriptError):
            transport.load(client, self._claim_woken, reply)
        return parse_woken(popped, reply)

    def _woken_call(self, worker_id: str, wake_key: str) -> transport.Fixed:
        call = self._woken_calls.get(worker_id)
        if call is None or call.keys[1] != wake_key:
            k = self.keys
            keys = (k.base, wake_key, k.events, k.state("inactive"), k.state("active"), k.worker_lease(worker_id))
            call = self._woken_calls[worker_id] = transport.Fixed(self._claim_woken, keys)
        return call

    def load_worker_scripts(self, client: redis.Redis) -> None:
        """Load the worker's scripts ahead of its first wait: a NOSCRIPT behind the BLPOP costs
        a detour, and its reports go out as FCALL only once their library is loaded here."""
        for script in (self._claim_woken, self._claim_jobs, self._complete_jobs, self._fail_job):
            transport.load(client, script)

    def complete_jobs(
        self,
        client: redis.Redis,
        now: int,
        done: list[tuple[int, str, str]],
        worker_id: str = "",
        refill: dict[str, int] | None = None,
        claimed_at: int | None = None,
    ) -> Completion:
        """Complete (id, claim, result JSON) jobs as of ``now``; with a worker id, also claim
        for it up to ``refill[type]`` more jobs of each type as of ``claimed_at``, in the same call
        (none, with ``refill_status`` NO_LEASE, when the worker has no lease)."""
        args = _complete_args(now, done, worker_id, refill, claimed_at)
        return parse_completion(transport.call_fixed(client, self._completion(now, worker_id), args))

    def send_complete_jobs(
        self,
        conn: Any,
        now: int,
        done: list[tuple[int, str, str]],
        worker_id: str,
        refill: dict[str, int],
        claimed_at: int,
        check_health: bool = True,
    ) -> None:
        """complete_jobs sent on a connection the caller holds, its reply to be read with
        ``conn.read_response()`` and ``parse_completion`` (a NoScriptError: it did not run).
        ``check_health`` must be False while other calls' replies are unread on ``conn``."""
        transport.send(
            conn,
            self._completion(now, worker_id),
            _complete_args(now, done, worker_id, refill, claimed_at),
            check_health,
        )

    def queue_complete_jobs(self, pipe: Any, now: int, done: list[tuple[int, str, str]]) -> None:
        """complete_jobs (no refill) in a pipeline; its reply goes through ``parse_completion``."""
        args = _complete_args(now, done, "", None, None)
        transport.queue_in(pipe, self._complete_jobs, self._completion(now, "").keys, args)

    def _completion(self, now: int, worker_id: str) -> transport.Fixed:
        """complete_jobs' call for ``now`` and the worker (its lease key, declared only for a
        worker: no call declares a key that names nothing): its keys change with the minute
        (its counter)."""
        minute, call = self._complete_calls.get(worker_id, (-1, None))
        if call is None or minute != now // 60000:
            k = self.keys
            keys = (
                k.base,
                k.events,
                k.jobs,
                k.work_time,
                k.metric_at("complete", now),
                *k.states,
                *((k.worker_lease(worker_id),) if worker_id else ()),
            )
            call = transport.Fixed(self._complete_jobs, keys)
            self._complete_calls[worker_id] = (now // 60000, call)
        return call

    # -- upkeep -----------------------------------------------------------------------------

    def tick(
        self,
        client: redis.Redis,
        now: int,
        limit: int,
        worker_id: str,
        lease_ms: int,
        find_stalled: bool,
        reconcile_types: list[str],
    ) -> Tick:
        """One upkeep tick for the worker ``worker_id``, which renews its lease: the lease key
        is the worker's own, never one a caller names (nor an empty one for none)."""
        k = self.keys
        keys = (k.base, k.events, k.paused, k.worker_lease(worker_id), *k.states)
        args = [now, limit, lease_ms, "1" if find_stalled else "0", worker_id, *reconcile_types]
        return parse_tick(transport.call(client, self._tick, keys, args))

    def heartbeat_worker(self, client: redis.Redis, worker_id: str, ms: int, record_json: str) -> int:
        """Rewrite the worker's record to live ``ms`` more; the heartbeat's time (Redis's, ms)."""
        k = self.keys
        keys = (k.worker_record(worker_id), k.workers)
        return int(transport.call(client, self._heartbeat_worker, keys, [worker_id, ms, record_json]))

    # -- fleet-wide limits and schedules ---------------------------------------------------------

    def set_limits(self, client: redis.Redis, origin: str, limits: list[tuple[str, str, str]]) -> int:
        """(type, rate "<n> <window ms>" or "", concurrency "<n>" or "") set by ``origin``:
        "task", "queue" or "reset" (see set_limits.lua); how many types changed."""
        args: list[Any] = [origin]
        for item in limits:
            args.extend(item)
        return int(transport.call(client, self._set_limits, (self.keys.limits,), args))

    def put_schedule(self, client: redis.Redis, name: str, spec_json: str, due_ms: int) -> tuple[bool, int]:
        """(whether it was added or changed, its due time): the same spec keeps its due time."""
        k = self.keys
        changed, due = transport.call(
            client, self._put_schedule, (k.schedules, k.schedules_due), [name, spec_json, due_ms]
        )
        return changed == 1, int(float(due))

    def remove_schedule(self, client: redis.Redis, name: str) -> bool:
        k = self.keys
        return int(transport.call(client, self._remove_schedule, (k.schedules, k.schedules_due), [name])) == 1

    def fire_schedule(self, client: redis.Redis, name: str, due_ms: int, next_due_ms: int) -> int | None:
        """The id of the job made for the schedule's due time ``due_ms``; minus the id of the
        job that holds its unique key (no job made, the due time moved on, as save_jobs
        answers a duplicate); None when it was not due by Redis's clock, or another worker
        fired it (or it changed, or is gone)."""
        k = self.keys
        keys = (k.base, k.ids, k.types, k.jobs, k.state("inactive"), k.state("delayed"), k.events)
        reply = transport.call(
            client, self._fire_schedule, (*keys, k.schedules, k.schedules_due), [name, due_ms, next_due_ms]
        )
        if reply[0] == 0:
            return None
        return int(reply[1]) if reply[0] == 1 else -int(reply[1])


def _save_args(now: int, encoded_jobs: list[list[Any]]) -> list[Any]:
    args: list[Any] = [now]
    for job_args in encoded_jobs:
        args.extend(job_args)
    return args


def _complete_args(
    now: int, done: list[tuple[int, str, str]], worker_id: str, refill: dict[str, int] | None, claimed_at: int | None
) -> list[Any]:
    pairs = [(t, n) for t, n in (refill or {}).items() if n > 0] if worker_id else []
    args: list[Any] = [now, worker_id, claimed_at or now, len(pairs)]
    for pair in pairs:
        args.extend(pair)
    for item in done:
        args.extend(item)
    return args
