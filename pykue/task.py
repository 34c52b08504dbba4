"""Tasks: functions registered on a Queue, turned into Kue jobs of their type.

Calling a task runs the function inline (Celery semantics). ``delay`` saves a job whose
data is the keyword arguments (so a Node Kue job with data ``{"to": ...}`` calls
``fn(to=...)``); positional arguments travel under the data key ``args``.
"""
from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, TypeVar

from .backoff import is_strategy
from .context import current_job
from .exceptions import InvalidJobError
from .job import MAX_ATTEMPTS
from .states import priority_value

if TYPE_CHECKING:
    from .job import Job
    from .queue import Queue

R = TypeVar("R")


@dataclass(frozen=True)
class TaskOptions:
    priority: Any = "normal"
    attempts: int = 1
    backoff: Any = None
    ttl: int | None = None
    delay: Any = None
    remove_on_complete: bool = False
    search_keys: tuple[str, ...] | None = None

    def validate(self) -> "TaskOptions":
        priority_value(self.priority)
        attempts = self.attempts
        if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= MAX_ATTEMPTS:
            raise InvalidJobError("attempts", self.attempts, f"expected an integer from 1 to {MAX_ATTEMPTS}")
        if not isinstance(self.remove_on_complete, bool):
            raise InvalidJobError("remove_on_complete", self.remove_on_complete, "expected True or False")
        return self


@dataclass
class Task(Generic[R]):
    queue: "Queue"
    fn: Callable[..., R]
    type: str
    concurrency: int = 1
    bind: bool = False
    options: TaskOptions = field(default_factory=TaskOptions)

    def __post_init__(self) -> None:
        if not isinstance(self.concurrency, int) or isinstance(self.concurrency, bool) or self.concurrency < 1:
            raise InvalidJobError("concurrency", self.concurrency, "expected an integer >= 1")
        self.options.validate()
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
        """A Python callable or tenacity wait, applied by the worker (never stored)."""
        return self.options.backoff if is_strategy(self.options.backoff) else None

    def with_options(self, **options: Any) -> "Task[R]":
        """A copy whose jobs use other options: priority, attempts, ttl, delay, backoff, ..."""
        unknown = set(options) - set(TaskOptions.__dataclass_fields__)
        if unknown:
            raise InvalidJobError("option", sorted(unknown), f"expected some of {sorted(TaskOptions.__dataclass_fields__)}")
        return replace(self, options=replace(self.options, **options).validate())

    def build(self, *args: Any, **kwargs: Any) -> "Job":
        """The unsaved job that ``delay`` would save."""
        data = dict(kwargs)
        if args:
            data["args"] = list(args)
        opts = self.options
        job = self.queue.create(self.type, data).priority(opts.priority).attempts(opts.attempts)
        if opts.backoff is not None and not is_strategy(opts.backoff):
            job.backoff(opts.backoff)
        if opts.ttl:
            job.ttl(opts.ttl)
        if opts.delay:
            job.delay(opts.delay)
        if opts.remove_on_complete:
            job.remove_on_complete(True)
        if opts.search_keys:
            job.search_keys(list(opts.search_keys))
        return job

    def delay(self, *args: Any, **kwargs: Any) -> "Job":
        """Save a job for a worker to run ``fn(*args, **kwargs)``; returns the saved Job."""
        return self.build(*args, **kwargs).save()

    def schedule(self, when: int | float | dt.timedelta | dt.datetime, *args: Any, **kwargs: Any) -> "Job":
        """Like ``delay``, run no sooner than ``when`` (seconds from now, a timedelta or a datetime)."""
        return self.build(*args, **kwargs).delay(_delay_value(when)).save()

    def delay_many(self, calls: Iterable[dict[str, Any] | tuple[tuple[Any, ...], dict[str, Any]]]) -> list["Job"]:
        """Save many jobs in one round trip: each call is a kwargs dict or an (args, kwargs) pair."""
        jobs = []
        for call in calls:
            args, kwargs = ((), call) if isinstance(call, dict) else call
            jobs.append(self.build(*args, **kwargs))
        return self.queue.save_jobs(jobs)

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


def _delay_value(when: Any) -> Any:
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        if when < 0:
            raise InvalidJobError("when", when, "expected seconds >= 0, a timedelta or a datetime")
        return dt.timedelta(seconds=when)
    if isinstance(when, (dt.timedelta, dt.datetime)):
        return when
    raise InvalidJobError("when", when, "expected seconds >= 0, a timedelta or a datetime")
