"""Tasks: functions registered on a Queue, turned into Kue jobs of their type.

Calling a task runs the function inline (Celery semantics). ``delay`` saves a job whose
data is the keyword arguments (so a Node Kue job with data ``{"to": ...}`` calls
``fn(to=...)``); positional arguments travel under the data key ``args``.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .backoff import encode_backoff, is_strategy
from .canvas import Signature
from .context import current_job
from .cron import Periodic
from .exceptions import InvalidJobError
from .fields import (
    MAX_MS,
    check_attempts,
    check_count,
    check_delay,
    check_flag,
    check_list,
    check_ms,
    check_rate_limit,
    check_retention,
    check_search_keys,
    check_seconds,
    check_type,
    check_unique_key,
    is_finite,
)
from .interfaces import TaskQueue
from .states import priority_value

if TYPE_CHECKING:
    from .draft import JobDraft
    from .job import Job

R = TypeVar("R")
MAX_CONCURRENCY = 2**31 - 1  # jobs of one type a worker process runs at once


@dataclass(frozen=True)
class TaskOptions:
    priority: Any = "normal"
    attempts: int = 1
    backoff: Any = None
    ttl: int | None = None
    delay: Any = None
    remove_on_complete: Any = None  # None: the Queue's default
    remove_on_fail: Any = None
    unique: bool = False  # the key is the job's data
    unique_key: str | None = None
    unique_for: float = 0  # seconds
    search_keys: Sequence[str] | None = None

    def validate(self) -> TaskOptions:
        """These options, checked as a job's would be (so a bad one is refused where it is
        declared, not at the first ``delay``), with search_keys as a tuple or None."""
        priority_value(self.priority)
        check_attempts(self.attempts)
        for name in ("remove_on_complete", "remove_on_fail"):
            if getattr(self, name) is not None:
                check_retention(name, getattr(self, name))
        check_flag("unique", self.unique)
        if self.unique_key is not None:
            check_unique_key(self.unique_key)
        check_seconds("unique_for", self.unique_for)
        if not is_strategy(self.backoff):  # a callable is the task's own; anything else is stored
            encode_backoff(self.backoff)
        if self.ttl is not None:
            check_ms("ttl", self.ttl)
        if self.delay is not None:
            check_delay(self.delay)
        search_keys = tuple(check_search_keys(self.search_keys)) if self.search_keys is not None else None
        return replace(self, search_keys=search_keys or None)


@dataclass
class Task(Generic[R]):
    queue: TaskQueue[JobDraft, Job]
    fn: Callable[..., R]
    type: str
    concurrency: int = 1
    bind: bool = False
    options: TaskOptions = field(default_factory=TaskOptions)
    rate_limit: str | None = None  # fleet-wide starts per period: "100/s", "/m", "/h" (limits.py)
    global_concurrency: int | None = None  # fleet-wide jobs active at once (limits.py)
    periodic: Periodic | None = None  # runs with no arguments on a schedule named after the type (schedules.py)

    def __post_init__(self) -> None:
        check_type(self.type)
        if not callable(self.fn):
            raise InvalidJobError("fn", self.fn, "a task is a function (or another callable)")
        check_count("concurrency", self.concurrency, MAX_CONCURRENCY)
        check_flag("bind", self.bind)
        self.options = self.options.validate()
        check_rate_limit(self.rate_limit)
        if self.global_concurrency is not None:
            check_count("global_concurrency", self.global_concurrency, MAX_CONCURRENCY)
        self.is_async = inspect.iscoroutinefunction(self.fn)
        self.__doc__ = self.fn.__doc__
        self.__name__ = getattr(self.fn, "__name__", self.type)

    def __repr__(self) -> str:
        return f"<Task {self.type!r} concurrency={self.concurrency}>"

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        if self.bind:
            return self.fn(current_job(), *args, **kwargs)
        return self.fn(*args, **kwargs)

    @property
    def backoff_strategy(self) -> Any:
        """A Python callable or tenacity wait, never stored: the worker applies it to the jobs
        of this type that carry no backoff of their own."""
        return self.options.backoff if is_strategy(self.options.backoff) else None

    def with_options(self, **options: Any) -> Task[R]:
        """A copy whose jobs use other options: priority, attempts, ttl, delay, backoff, ..."""
        unknown = set(options) - set(TaskOptions.__dataclass_fields__)
        if unknown:
            known = sorted(TaskOptions.__dataclass_fields__)
            raise InvalidJobError("option", sorted(unknown), f"expected some of {known}")
        return replace(self, options=replace(self.options, **options).validate())

    def build(self, *args: Any, **kwargs: Any) -> JobDraft:
        """The draft that ``delay`` would save."""
        data = dict(kwargs)
        if args:
            data["args"] = list(args)
        opts = self.options
        job = self.queue.create(self.type, data)
        job.priority(opts.priority).attempts(opts.attempts)
        if opts.backoff is not None and not is_strategy(opts.backoff):
            job.backoff(opts.backoff)
        if opts.ttl:
            job.ttl(opts.ttl)
        if opts.delay:
            job.delay(opts.delay)
        if opts.remove_on_complete is not None:
            job.remove_on_complete(opts.remove_on_complete)
        if opts.remove_on_fail is not None:
            job.remove_on_fail(opts.remove_on_fail)
        if opts.unique_key is not None or opts.unique:
            job.unique(opts.unique_key if opts.unique_key is not None else True, opts.unique_for)
        if opts.search_keys:
            job.search_keys(list(opts.search_keys))
        return job

    def delay(self, *args: Any, **kwargs: Any) -> Job:
        """Save a job for a worker to run ``fn(*args, **kwargs)``; returns the saved Job."""
        return self.build(*args, **kwargs).save()

    def schedule(self, when: int | float | dt.timedelta | dt.datetime, *args: Any, **kwargs: Any) -> Job:
        """Like ``delay``, run no sooner than ``when`` (seconds from now, a timedelta or a datetime)."""
        job = self.build(*args, **kwargs)
        job.delay(_delay_value(when))
        return job.save()

    def delay_many(self, calls: Iterable[dict[str, Any] | tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Job]:
        """Save many jobs in one round trip: each call is a kwargs dict or an (args, kwargs) pair."""
        jobs: list[JobDraft] = []
        for call in check_list("calls", calls, "a list of kwargs dicts or (args, kwargs) pairs"):
            args, kwargs = _call_arguments(call)
            jobs.append(self.build(*args, **kwargs))
        return self.queue.save_jobs(jobs)

    def s(self, *args: Any, **kwargs: Any) -> Signature:
        """A signature for workflows (pykue.canvas): this call, not yet saved; in a chain it
        takes the previous step's result as its first positional argument."""
        return Signature(self, args, kwargs)

    def si(self, *args: Any, **kwargs: Any) -> Signature:
        """An immutable signature: in a chain it ignores the previous step's result."""
        return Signature(self, args, kwargs, immutable=True)

    def arguments(self, data: Any) -> tuple[list[Any], dict[str, Any]]:
        """How a job's data becomes the call: dict keys -> kwargs (``args`` -> positional)."""
        if isinstance(data, dict):
            kwargs = dict(data)
            args = kwargs.pop("args", [])
            if not isinstance(args, list):
                kwargs["args"], args = args, []
            return args, kwargs
        if isinstance(data, list):
            return list(data), {}
        return [data], {}


def default_type(fn: Callable[..., Any]) -> str:
    """A task's type when none is given: the function's module-qualified name."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__qualname__
    return f"{getattr(fn, '__module__', None) or type(fn).__module__}.{name}"


def _call_arguments(call: Any) -> tuple[Sequence[Any], dict[str, Any]]:
    if _is_kwargs(call):
        return (), call
    pair = isinstance(call, (tuple, list)) and len(call) == 2
    if pair and isinstance(call[0], (tuple, list)) and _is_kwargs(call[1]):
        return call[0], call[1]
    raise InvalidJobError("call", call, "expected a kwargs dict or an (args, kwargs) pair")


def _is_kwargs(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(key, str) for key in value)


def _delay_value(when: Any) -> Any:
    """``when`` as Job.delay takes it: seconds become milliseconds."""
    if isinstance(when, (dt.timedelta, dt.datetime)):
        return when
    if not is_finite(when) or not 0 <= when <= MAX_MS / 1000:
        raise InvalidJobError("when", when, f"expected seconds from 0 to {MAX_MS // 1000}, a timedelta or a datetime")
    return when * 1000
