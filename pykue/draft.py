"""A job being built: ``queue.create(type, data)``, its options chained, then ``save()``.

``save()`` stores it and returns the stored ``Job`` (job.py). The draft stays usable the way
Kue's job object is after ``job.save()``: it answers ``id`` and the stored fields, and passes
``log``, ``progress``, ``wait``, ``on``, ``set_state``, ... on to the job it became. Before
saving, those raise ``PykueError`` (the stored fields read None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backoff as backoff_rules
from .events import check_listener
from .exceptions import InvalidJobError, PykueError
from .fields import check_json, check_type, kue_int, kue_number
from .interfaces import DraftQueue
from .job import Job
from .job_hash import kue_json
from .job_options import MISSING, OptionMethods, Options
from .retention import encode_keep
from .unique import unique_name


def _stored_field(name: str) -> Any:
    """A draft's read-only view of its saved job's ``name`` (None before saving)."""

    def read(draft: JobDraft) -> Any:
        return None if draft._job is None else getattr(draft._job, name)

    return property(read, doc=f"The saved job's ``{name}`` (None before ``save()``).")


class JobDraft(OptionMethods):
    """What ``queue.create`` returns: a job's type, data and options, until ``save()``."""

    _job: Job | None = None  # the job it was saved as
    _listeners: list[tuple[str, Callable[..., Any]]] | tuple[()] = ()  # job.on(...) before saving

    def __init__(self, queue: DraftQueue[JobDraft, Job], type: str, data: Any = None) -> None:
        self.queue = queue
        self.type = check_type(type)
        self._data: Any = {} if data is None else data
        self._options = options = Options()
        if not queue.job_events:
            options.events = False

    @property
    def data(self) -> Any:
        """The job's data; once saved, the stored job's (``refresh`` reads it back)."""
        return self._data if self._job is None else self._job.data

    @data.setter
    def data(self, value: Any) -> None:
        if self._job is None:
            self._data = value
        else:
            self._job.data = value

    def __repr__(self) -> str:
        return repr(self._job) if self._job is not None else f"<Job None {self.type!r} None>"

    def _attempts_made(self) -> int:
        return 0 if self._job is None else self._job.attempts().made

    def apply_kue_options(self, options: dict[str, Any]) -> JobDraft:
        """Kue's ``options`` object (POST /job): truthy keys applied, unknown keys refused."""
        if not isinstance(options, dict):
            raise InvalidJobError("options", options, "expected an object")
        setters: dict[str, Callable[[Any], Any]] = {
            "attempts": lambda v: self.attempts(kue_int("attempts", v)),
            "priority": self.priority,
            "delay": lambda v: self.delay(kue_number("delay", v)),
            "searchKeys": self.search_keys,
            "backoff": self._kue_backoff,
            "removeOnComplete": lambda v: self.remove_on_complete(True),  # Kue: any truthy value
            "ttl": lambda v: self.ttl(kue_number("ttl", v)),
        }
        unknown = set(options) - set(setters)
        if unknown:
            raise InvalidJobError("options", sorted(unknown), f"unknown option; expected some of {sorted(setters)}")
        for name, value in options.items():
            if value or value == 0 and name == "priority":
                setters[name](value)
        return self

    def _kue_backoff(self, value: Any) -> None:
        if isinstance(value, str) or backoff_rules.is_strategy(value):
            raise InvalidJobError("backoff", value, "expected true or an object; code is never accepted")
        self.backoff(value)

    # -- saving -------------------------------------------------------------------------------

    def save(self) -> Job:
        """Store the job (one atomic script) and return it; this draft then stands for it."""
        if self._job is not None:
            return self._job.save()  # refused: already saved
        return self.queue.save_jobs([self])[0]

    def encode(self) -> list[Any]:
        """This job's arguments to save_jobs.lua (validated; nothing is written here)."""
        options = self._options
        stored_backoff = backoff_rules.encode_backoff(options.backoff) or ""
        data = check_json("data", self._data)
        words = self.queue.index_words(self._data, options.search_keys) if self.queue.search_enabled else ()
        return [
            self.type,
            data,
            options.priority,
            options.max_attempts,
            options.delay or 0,
            options.ttl or 0,
            stored_backoff,
            "true" if options.remove_on_complete is True else "",
            unique_name(self.type, options.unique, self._data) if options.unique else "",
            options.unique_for,
            "" if options.remove_on_complete is True else encode_keep(options.remove_on_complete),
            encode_keep(options.remove_on_fail),
            len(words),
            *words,
        ]

    @property
    def hears_own_events(self) -> bool:
        """Listeners were added before saving, and this job's events reach them."""
        return bool(self._listeners) and self._options.events

    def stored(self, job_id: int, fields: dict[str, str]) -> Job:
        """The job this draft became once saved as ``fields``; its listeners start hearing it."""
        self._job = Job(self.queue, job_id, self.type, self._data, self._options, fields)
        if self._listeners and self._options.events:
            self.queue.events.on_new_job(job_id, self._listeners)
        return self._job

    def duplicate(self, job_id: int, fields: dict[str, str]) -> Job:
        """The job this draft duplicates (a unique job saved as ``fields``): nothing was saved."""
        self._job = Job.from_hash(self.queue, job_id, fields)
        self._job.duplicate_of = job_id
        if self._listeners and self._options.events:
            self.queue.events.on_new_job(job_id, self._listeners)
        return self._job

    def recorded(self, fake_id: str) -> Job:
        """The job test mode keeps instead of saving this draft: Kue's string id, no Redis."""
        job = Job(self.queue, fake_id, self.type, self._data, self._options, {})  # type: ignore[arg-type]
        job.test_only = True  # its own Redis operations refuse to run
        self._job = job
        return job

    def saved(self) -> Job:
        """The stored job this draft became (``PykueError`` before ``save()``)."""
        if self._job is None:
            raise PykueError("the job has not been saved yet")
        return self._job

    # -- what the saved job answers -------------------------------------------------------------

    @property
    def id(self) -> int | None:
        return None if self._job is None else self._job.id

    state = _stored_field("state")
    created_at = _stored_field("created_at")
    promote_at = _stored_field("promote_at")
    updated_at = _stored_field("updated_at")
    started_at = _stored_field("started_at")
    failed_at = _stored_field("failed_at")
    duration = _stored_field("duration")
    error = _stored_field("error")
    worker_id = _stored_field("worker_id")
    result = _stored_field("result")
    progress_data = _stored_field("progress_data")
    duplicate_of = _stored_field("duplicate_of")
    cancelled = _stored_field("cancelled")

    def to_json(self) -> dict[str, Any]:
        if self._job is not None:
            return self._job.to_json()
        return kue_json(None, self.type, self._data, {}, self._options.priority, self._options.max_attempts)

    def progress(self, done: Any = MISSING, total: Any = 100, data: Any = None) -> Any:
        if done is MISSING:
            return 0 if self._job is None else self._job.progress()
        self.saved().progress(done, total, data)
        return self

    def on(self, event: str, fn: Callable[..., Any]) -> JobDraft:
        """Kue's job events; listeners added before saving hear the job from its ``enqueue``."""
        if self._job is not None:
            self._job.on(event, fn)
        else:
            check_listener(event, fn)
            self._listeners = [*self._listeners, (event, fn)]
        return self

    def wait(self, timeout: float | None = None) -> Any:
        return self.saved().wait(timeout)

    def refresh(self) -> JobDraft:
        self.saved().refresh()
        return self

    def log(self, fmt: Any, *args: Any) -> JobDraft:
        self.saved().log(fmt, *args)
        return self

    def logs(self) -> list[str]:
        return self.saved().logs()

    def remove(self) -> None:
        self.saved().remove()

    def set_state(self, state: Any) -> JobDraft:
        self.saved().set_state(state)
        return self

    def inactive(self) -> JobDraft:
        return self.set_state("inactive")

    def active(self) -> JobDraft:
        return self.set_state("active")

    def complete(self) -> JobDraft:
        return self.set_state("complete")

    def failed(self) -> JobDraft:
        return self.set_state("failed")

    def delayed(self) -> JobDraft:
        return self.set_state("delayed")

    def set_priority(self, level: Any) -> JobDraft:
        self.saved().set_priority(level)
        return self

    def cancel(self, reason: str = "") -> Any:
        return self.saved().cancel(reason)
