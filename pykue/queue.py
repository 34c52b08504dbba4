"""The Queue: where jobs are created, read, counted and listened to.

Several Queue objects may live in one process (other prefixes, other servers); none is
global. Workers and tasks hang off a Queue too (see ``task.py`` and ``worker/``).
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import redis
from typing_extensions import ParamSpec, TypeVar, Unpack

from . import cleanup
from . import limits as fleet_limits
from . import schedules as periodic_jobs
from . import search as search_index
from .cancel import CancelResult, cancel_job
from .connection import RedisSpec, connect
from .cron import Periodic
from .draft import JobDraft
from .events import EventHub, check_listener
from .exceptions import InvalidJobError, JobNotFoundError
from .fields import check_count, check_list, check_prefix, check_seconds, check_text, check_type
from .job import Job
from .keys import Keys
from .registry import WorkerInfo, read_workers
from .saving import save_drafts
from .scripts import Scripts
from .states import check_state
from .store import Store
from .task import AsyncTask, BoundTaskDecorator, Task, TaskDecorator, TaskOptions, TaskSettings, default_type
from .testmode import TestMode
from .topology import Durability, rebound
from .transport import durable

if TYPE_CHECKING:  # pykue.aio is imported on first use of Queue.aio: a worker never loads it
    from .aio import AsyncProducer
    from .aio.clients import AsyncClientSpec

log = logging.getLogger("pykue")
P = ParamSpec("P")
R = TypeVar("R")
SAVE_CHUNK = 250  # jobs per save_jobs.lua call: Redis runs one while the next is sent, and no call blocks it long


class Queue:
    def __init__(
        self,
        redis: RedisSpec = None,
        prefix: str | None = None,
        *,
        search: bool = False,
        job_events: bool = True,
        remove_on_complete: Any = None,
        remove_on_fail: Any = None,
        durable_replicas: int | None = None,
        durable_timeout_ms: int = 1000,
    ) -> None:
        """``redis`` defaults to ``$PYKUE_REDIS_URL`` and ``prefix`` to ``$PYKUE_PREFIX``, else
        redis://127.0.0.1:6379/0 and Kue's ``q``: one app's code can serve several deployments.
        ``remove_on_complete`` and ``remove_on_fail`` are the retention of the jobs this Queue
        creates unless a task or job sets its own (docs/jobs.md, Retention).
        ``durable_replicas``: each save and transition waits for that many replicas to hold it
        (``WAIT``), else raises DurabilityError (see docs/production.md); None: as the URL
        says (``?durable_replicas=1``), else not."""
        self.retention = cleanup.Retention(remove_on_complete, remove_on_fail)
        if prefix is None:
            prefix = os.environ.get("PYKUE_PREFIX") or "q"
        self.prefix = check_prefix(prefix)
        self.keys = Keys(prefix)
        self.durability = Durability(durable_replicas, durable_timeout_ms)
        self.client = self.durability.applied(connect(redis, prefix))
        self.scripts = Scripts(self.keys)
        self.store = Store(self.client, self.keys, self.scripts)
        self.search_enabled = search
        self.job_events = job_events
        self.test_mode = TestMode(self)
        self.tasks: dict[str, Any] = {}
        self.local_workers: list[Any] = []  # this process's running Workers (see workers())
        self._error_listeners: list[Callable[[BaseException], Any]] = []
        self.events = EventHub(self.client, self.keys.events, self.report_error)
        self._aio: AsyncProducer | None = None
        self._async_redis: AsyncClientSpec = None

    def __repr__(self) -> str:
        return f"<Queue prefix={self.prefix!r}>"

    # -- creating -------------------------------------------------------------------------------

    def create(self, type: str, data: Any = None) -> JobDraft:
        """A job to build: chain its options, then ``save()``, which returns the stored Job."""
        return self.retention.apply(JobDraft(self, type, data))

    create_job = create

    def create_many(self, jobs: Iterable[JobDraft | tuple[str, Any]]) -> list[Job]:
        """Save many jobs in one round trip, in order; each one is still atomic on its own."""
        items = check_list("jobs", jobs, "a list of Jobs or (type, data) pairs")
        return self.save_jobs([self._as_draft(item) for item in items])

    def _as_draft(self, item: Any) -> JobDraft | Job:
        if isinstance(item, (JobDraft, Job)):
            return item  # a Job is refused by save_jobs, as already saved
        if not isinstance(item, (tuple, list)) or not 1 <= len(item) <= 2:
            raise InvalidJobError("job", item, "expected a Job or a (type, data) pair")
        return JobDraft(self, *item)

    def save_jobs(self, jobs: Sequence[JobDraft | Job]) -> list[Job]:
        """Save drafts in order (see ``create_many``); returns the stored jobs."""
        return save_drafts(self.store, self.events, self.test_mode, jobs, SAVE_CHUNK)

    async def asave_jobs(self, jobs: Sequence[JobDraft | Job]) -> list[Job]:
        """``save_jobs`` for asyncio (see ``aio``)."""
        return await self.aio.save_jobs(jobs)

    @property
    def aio(self) -> AsyncProducer:
        """The asyncio side (pykue/aio: ``task.adelay``, ``job.await_result``, ...), made on first
        use from this queue's connection, or from ``use_async_redis``."""
        if self._aio is None:
            from .aio import AsyncProducer

            self._aio = AsyncProducer(self, self._async_redis, SAVE_CHUNK)
        return self._aio

    def use_async_redis(self, client: AsyncClientSpec) -> Queue:
        """The redis.asyncio client ``aio`` uses instead of one mirroring this queue's (needed for
        a connection it cannot mirror, e.g. Sentinel): a factory is called once per event loop."""
        self._async_redis, self._aio = client, None
        return self

    def index_words(self, data: Any, search_keys: list[str] | None) -> list[str]:
        return search_index.index_words(data, search_keys) if self.search_enabled else []

    # -- tasks --------------------------------------------------------------------------------

    @overload
    def task(self, type: Callable[P, Coroutine[Any, Any, R]], /) -> AsyncTask[P, R]: ...
    @overload
    def task(self, type: Callable[P, R], /) -> Task[P, R]: ...
    @overload
    def task(
        self, type: str | None = None, *, bind: Literal[False] = False, **options: Unpack[TaskSettings]
    ) -> TaskDecorator: ...
    @overload
    def task(
        self, type: str | None = None, *, bind: Literal[True], **options: Unpack[TaskSettings]
    ) -> BoundTaskDecorator: ...

    def task(
        self,
        type: str | Callable[..., Any] | None = None,
        *,
        concurrency: int = 1,
        attempts: int = 1,
        backoff: Any = None,
        priority: Any = "normal",
        ttl: int | None = None,
        remove_on_complete: Any = None,
        remove_on_fail: Any = None,
        unique: bool = False,
        unique_for: float = 0,
        search_keys: list[str] | None = None,
        bind: bool = False,
        rate_limit: str | None = None,
        global_concurrency: int | None = None,
        cron: str | None = None,
        every: float | None = None,
        timezone: str = "UTC",
    ) -> Any:
        """Register a function as a task: ``@queue.task("email", concurrency=20, attempts=5)``.

        The type defaults to the function's module-qualified name. ``rate_limit`` ("100/s")
        and ``global_concurrency`` hold across every worker; ``cron`` or ``every`` (seconds)
        run the task with no arguments on a schedule, named after its type. The task is typed
        from the function (``Task[P, R]``; ``AsyncTask`` for an ``async def``), so ``delay``'s
        arguments and ``job.wait()``'s result are checked by mypy or pyright.
        """
        periodic = Periodic(cron, every, timezone) if cron is not None or every is not None else None
        if type is not None and not callable(type):
            check_type(type)

        def register(fn: Callable[..., Any]) -> Task[..., Any]:
            job_type = type if isinstance(type, str) else default_type(fn)
            options = TaskOptions(
                priority=priority,
                attempts=attempts,
                backoff=backoff,
                ttl=ttl,
                remove_on_complete=remove_on_complete,
                remove_on_fail=remove_on_fail,
                unique=unique,
                unique_for=unique_for,
                search_keys=search_keys,
            )
            kind = AsyncTask if inspect.iscoroutinefunction(fn) else Task
            task = kind(
                self,
                fn,
                job_type,
                concurrency=concurrency,
                bind=bind,
                options=options,
                rate_limit=rate_limit,
                global_concurrency=global_concurrency,
                periodic=periodic,
            )
            self.tasks[job_type] = task
            return task

        if callable(type):
            fn, type = type, None
            return register(fn)
        return register

    def pause(self, type: str) -> None:
        """Stop every pykue worker sharing this Redis from taking jobs of ``type`` (about 1 s)."""
        self.store.pause(check_type(type))

    def resume(self, type: str) -> None:
        self.store.resume(check_type(type))

    def paused_types(self) -> set[str]:
        return self.store.paused_types()

    # -- fleet-wide limits and periodic jobs (limits.py, schedules.py) ----------------------------

    def set_rate_limit(self, type: str, rate: str | None) -> None:
        """At most ``rate`` ("10/s", "/m", "/h") jobs of ``type`` start per period on every
        worker, from their next claim; None lifts it. Wins over tasks' ``rate_limit``."""
        fleet_limits.set_rate_limit(self.store, type, rate)

    def set_global_concurrency(self, type: str, limit: int | None) -> None:
        """At most ``limit`` jobs of ``type`` active at once across every worker; None lifts it."""
        fleet_limits.set_global_concurrency(self.store, type, limit)

    def reset_limits(self, type: str) -> None:
        """Forget run-time limits of ``type``: what its task declares holds again."""
        fleet_limits.reset_limits(self.store, type)

    def limits(self) -> dict[str, fleet_limits.Limits]:
        """Every limited type's limits, as every worker reads them."""
        return fleet_limits.read_limits(self.store)

    def add_schedule(
        self,
        name: str,
        task: Task[Any] | str,
        *,
        cron: str | None = None,
        every: float | None = None,
        data: dict[str, Any] | None = None,
        timezone: str = "UTC",
    ) -> periodic_jobs.Schedule:
        """Add or replace the schedule ``name``: a job of ``task`` (a Task, with its options,
        or a type) with ``data`` is created at each due time, once across every worker."""
        draft = task.build(**(data or {})) if isinstance(task, Task) else self.create(check_type(task), data or {})
        return periodic_jobs.add_schedule(self.store, name, draft.encode(), Periodic(cron, every, timezone), data or {})

    def remove_schedule(self, name: str) -> bool:
        """False when there was no such schedule."""
        return periodic_jobs.remove_schedule(self.store, name)

    def schedules(self) -> list[periodic_jobs.Schedule]:
        """Every schedule, the next due first."""
        return periodic_jobs.read_schedules(self.store)

    def configure(self, redis: RedisSpec = None, prefix: str | None = None) -> Queue:
        """Point this queue elsewhere (the worker's --redis/--prefix); tasks stay registered."""
        if prefix:
            self.prefix, self.keys = check_prefix(prefix), Keys(prefix)
            self.scripts = Scripts(self.keys)
        if redis is not None:
            client = connect(redis, self.prefix)
        else:  # the same server, maybe another slot's master: its URL's durable writes go along
            need = durable.required(self.client.connection_pool)
            client = rebound(self.client, self.prefix)
            if need:
                durable.require(client, *need)
        self.client = self.durability.applied(client)
        self.store = Store(self.client, self.keys, self.scripts)
        self._aio = None  # made again for the new server or keys
        self.events.rebind(self.client, self.keys.events)  # the app's listeners follow the queue
        return self

    def setting(self, name: str) -> str | None:
        """Kue's ``queue.setting(name)``: a field of the ``<prefix>:settings`` hash."""
        return self.store.setting(check_text("setting", name, "a setting name"))

    def remove_job(self, job_id: int | str) -> None:
        """Kue's ``Job.remove(id)``: remove a job by id (JobNotFoundError when missing)."""
        if self.store.remove_job(_job_id(job_id)) is None:
            raise JobNotFoundError(job_id)

    def cancel(self, job_id: int | str, reason: str = "") -> CancelResult:
        """Cancel a job by id (see ``Job.cancel``; JobNotFoundError when missing)."""
        return cancel_job(self.store, _job_id(job_id), reason)

    def clean(self, state: str, older_than: float = 0, type: str | None = None, limit: int | None = None) -> int:
        """Remove the jobs of ``state`` (complete, failed, delayed, inactive) last updated more
        than ``older_than`` seconds ago, of ``type`` or of every type, at most ``limit``;
        returns how many were removed. Bounded calls: Redis is never blocked long."""
        return cleanup.clean(self.store, check_state(state), older_than, check_type(type) if type else None, limit)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop this process's workers of this queue: no new jobs, running ones get ``timeout``
        seconds and then fail with ``Shutdown`` (retried if attempts remain). Returns when done."""
        check_seconds("timeout", timeout)
        workers = list(self.local_workers)
        for worker in workers:
            worker.stop(timeout)
        for worker in workers:
            worker.join(timeout + 10)

    # -- reading --------------------------------------------------------------------------------

    def get_job(self, job_id: int | str) -> Job:
        number = _job_id(job_id)
        fields = self.store.job_fields(number)
        if not fields.get("type"):
            raise JobNotFoundError(job_id)
        return Job.from_hash(self, number, fields)

    async def aget_job(self, job_id: int | str) -> Job:
        """``get_job`` for asyncio."""
        number = _job_id(job_id)
        fields = await self.aio.job_fields(number)
        if not fields.get("type"):
            raise JobNotFoundError(job_id)
        return Job.from_hash(self, number, fields)

    def get_jobs(self, ids: Iterable[int]) -> list[Job]:
        """The jobs that still exist, in the order asked, in one round trip."""
        ids = [_job_id(i) for i in check_list("ids", ids, "a list of job ids")]
        return [Job.from_hash(self, i, f) for i, f in zip(ids, self.store.jobs_fields(ids)) if f.get("type")]

    def job_logs(self, job_id: int | str) -> list[str]:
        try:
            number = _job_id(job_id)
        except InvalidJobError:
            return []
        return self.store.job_logs(number)

    def count(self, state: str, type: str | None = None) -> int:
        return self.store.count(check_state(state), check_type(type) if type else None)

    def counts(self, type: str | None = None) -> dict[str, int]:
        return self.store.counts(check_type(type) if type else None)

    async def acounts(self, type: str | None = None) -> dict[str, int]:
        """``counts`` for asyncio: the jobs in each state, in one round trip."""
        return await self.aio.counts(check_type(type) if type else None)

    def inactive_count(self, type: str | None = None) -> int:
        return self.count("inactive", type)

    def active_count(self, type: str | None = None) -> int:
        return self.count("active", type)

    def complete_count(self, type: str | None = None) -> int:
        return self.count("complete", type)

    def failed_count(self, type: str | None = None) -> int:
        return self.count("failed", type)

    def delayed_count(self, type: str | None = None) -> int:
        return self.count("delayed", type)

    def state_ids(self, state: str) -> list[int]:
        """Kue's ``queue.state(state)``: every id in that state, by score."""
        return self.store.ranked_ids(0, -1, check_state(state))

    def range(self, start: int, stop: int, order: str = "asc") -> list[Job]:
        """Kue's ``Job.range``: ranks start..stop (inclusive) of all jobs, sorted by id."""
        return self._range(None, None, start, stop, order)

    def range_by_state(self, state: str, start: int, stop: int, order: str = "asc") -> list[Job]:
        return self._range(check_state(state), None, start, stop, order)

    def range_by_type(self, type: str, state: str, start: int, stop: int, order: str = "asc") -> list[Job]:
        return self._range(check_state(state), check_type(type), start, stop, order)

    def _range(self, state: str | None, type: str | None, start: int, stop: int, order: str) -> list[Job]:
        if order not in ("asc", "desc"):
            raise InvalidJobError("order", order, 'expected "asc" or "desc"')
        for name, value in (("start", start), ("stop", stop)):
            if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
                raise InvalidJobError(name, value, "expected an integer rank (negative: from the end)")
        ids = self.store.ranked_ids(start, stop, state, type)
        jobs = sorted(self.get_jobs(ids), key=lambda job: job.id)
        return jobs[::-1] if order == "desc" else jobs

    def types(self) -> list[str]:
        return sorted(self.store.types())

    def workers(self) -> list[WorkerInfo]:
        """Every live pykue worker process of this queue, whichever host runs it (see
        pykue/registry.py); a stopped one is gone, a dead one ``stale`` until its lease lapses."""
        return read_workers(self.client, self.keys)

    def work_time(self) -> int | None:
        return self.store.work_time()

    def search(self, query: str) -> list[int]:
        """Ids of jobs whose indexed data holds every word of ``query``, best match first."""
        words = search_index.query_words(query)
        if not self.search_enabled or not words:
            return []
        matches = self.store.search(dict.fromkeys(words))
        return [int(member) for member, _ in sorted(matches, key=lambda m: (-m[1], int(m[0])))]

    def metrics(self, minutes: int = 60) -> dict[str, list[int]]:
        """Jobs completed and failed per minute over the last ``minutes``, oldest first;
        ``minutes`` holds each minute's start in epoch seconds."""
        check_count("minutes", minutes, 7 * 24 * 60)
        current = int(time.time() // 60)
        span = list(range(current - minutes + 1, current + 1))
        complete, failed = self.store.metrics(span)
        return {"minutes": [m * 60 for m in span], "complete": complete, "failed": failed}

    # -- events and lifecycle -------------------------------------------------------------------

    def on(self, event: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``job <event>`` listeners get (id, *args) for every job; ``error`` gets exceptions."""
        check_listener(event, fn)
        if event == "error":
            self._error_listeners.append(fn)
        elif event.startswith("job "):
            self.events.on(event, fn)
        else:
            raise InvalidJobError("event", event, 'expected "error" or a "job <event>" name')
        return fn

    def off(self, event: str, fn: Callable[..., Any] | None = None) -> None:
        if event == "error":
            self._error_listeners = [f for f in self._error_listeners if fn is not None and f is not fn]
        else:
            self.events.off(event, fn)

    def report_error(self, error: BaseException, logged: bool = False) -> None:
        """Kue's ``error`` event. With no listener the error is logged, unless the caller
        (``logged``) already did."""
        if not self._error_listeners and not logged:
            log.warning("pykue error: %s", error)
        for fn in list(self._error_listeners):
            try:
                fn(error)
            except Exception:
                log.exception("error listener %r failed", fn)

    def ping(self) -> bool:
        return bool(self.client.ping())

    async def aclose(self) -> None:
        """Close the running event loop's asyncio connections (``close`` closes the sync ones)."""
        if self._aio is not None:
            await self._aio.aclose()

    def close(self) -> None:
        self.events.close()
        try:
            self.client.close()
        except redis.RedisError:
            pass


def _job_id(job_id: int | str) -> int:
    if isinstance(job_id, str) and re.fullmatch(r"[0-9]{1,19}", job_id):  # int() also reads " 1", "0_1", "١"
        job_id = int(job_id)
    if not isinstance(job_id, int) or isinstance(job_id, bool) or not 1 <= job_id < 10**19:  # INCR's 19 digits
        raise InvalidJobError("id", job_id, "a job id is a positive integer")
    return job_id
