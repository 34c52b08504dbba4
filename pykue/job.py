"""A stored Kue job: what ``queue.get_job``, the ranges, the worker and the web API hold.

Its ``id`` is always set. ``queue.create`` makes a ``JobDraft`` instead (draft.py), whose
``save()`` returns one of these. The job hash in Redis is the truth: every change goes
through one Lua script that reads the job's current state there, never this object's memory
of it. The option methods (``priority()``, ``attempts()``, ...) read the stored options.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, Generic, cast

from typing_extensions import TypeVar

from . import backoff as backoff_rules
from .cancel import CANCELLED_PREFIX, CancelResult, cancel_job
from .events import Waiter, check_listener
from .exceptions import InvalidJobError, JobCancelled, JobFailedError, JobNotFoundError, PykueError
from .fields import check_json, encodes_utf8, is_number, progress_percent
from .interfaces import JobQueue
from .job_hash import as_int, json_field, kue_json
from .job_hash import now_ms as now_ms  # re-exported: tests and older code import it from here
from .job_options import MISSING, OptionMethods, Options
from .logformat import render_log
from .replies import ReplyCode
from .retention import decode_keep
from .states import check_state, priority_value

R = TypeVar("R", default=Any)  # the result the job stores (its task function's return type)
_READING_OPTIONS = threading.Lock()


def check_wait_timeout(timeout: Any) -> None:
    if timeout is not None and (not is_number(timeout) or math.isnan(timeout)):
        raise InvalidJobError("timeout", timeout, "expected a number of seconds, or None to wait for ever")


class Job(OptionMethods, Generic[R]):
    """``Job[R]``: a job whose task returns ``R``, so ``wait()`` is typed (``Job`` alone: Any)."""

    claim: str = ""  # set by the worker that runs the job; fences its writes
    ctx: Any = None  # Kue's ctx (pause/resume) while a worker runs the job
    test_only: bool = False  # recorded by test mode, never in Redis
    duplicate_of: int | None = None  # a unique job's save found this job holding its key: nothing was saved
    _cancelled: str | None = None  # the error its worker found it cancelled with, while running it

    def __init__(
        self, queue: JobQueue, job_id: int, type: str, data: Any, options: Options | None, fields: dict[str, str]
    ) -> None:
        """A job as saved just now (its hash as written) or as read (see ``from_hash``)."""
        self.queue = queue
        self.id = job_id
        self.type = type
        self.data = data
        self._parsed: Options | None = options  # None: read from the hash when first asked for
        self._hash = fields

    @classmethod
    def from_hash(cls, queue: JobQueue, job_id: int, fields: dict[str, str]) -> Job:
        """The job a hash read from Redis holds (a stored type is text Redis took: no check)."""
        job = cls(queue, int(job_id), fields.get("type", "?"), {}, None, {})
        job._load(fields)
        return job

    @property
    def _options(self) -> Options:
        """The options the hash holds, read when first asked for: a worker starts every job
        it claims, and most of its jobs never ask. Read once, under a lock: the upkeep thread
        (a TTL) and the task's own thread (``job.priority(...)``) may both be first."""
        options = self._parsed
        if options is None:
            with _READING_OPTIONS:
                options = self._parsed
                if options is None:
                    options = Options()
                    options.events = self.queue.job_events
                    self._parsed = self._read_options(options)
        return options

    @_options.setter
    def _options(self, options: Options) -> None:
        self._parsed = options

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.type!r} {self.state}>"

    def _load(self, fields: dict[str, str]) -> None:
        self._hash = dict(fields)
        self.type = fields.get("type", self.type)
        raw = fields.get("data")
        self.data = json_field(raw) if raw is not None else {}
        if self._parsed is not None:  # read already: again, in place (a saved draft shares it)
            self._read_options(self._parsed)

    def _read_options(self, options: Options) -> Options:
        get = self._hash.get
        options.priority = as_int(get("priority")) or 0
        options.max_attempts = as_int(get("max_attempts")) or 1
        options.delay = as_int(get("delay"))
        options.ttl = as_int(get("ttl"))
        options.backoff = backoff_rules.decode_backoff(get("backoff"))
        # Kue: any non-empty value; else pykue's count or age rule
        options.remove_on_complete = bool(get("removeOnComplete")) or decode_keep(get("pykue_keep_complete"))
        options.remove_on_fail = decode_keep(get("pykue_keep_failed"))
        unique = get("pykue_unique")
        if unique:
            options.unique = unique.removeprefix(f"{self.type}:")  # unique.unique_name's
            options.unique_for = as_int(get("pykue_unique_for")) or 0
        return options

    def _attempts_made(self) -> int:
        return as_int(self._hash.get("attempts")) or 0

    # -- stored fields ------------------------------------------------------------------------

    @property
    def state(self) -> str | None:
        return self._hash.get("state")

    created_at = property(lambda self: as_int(self._hash.get("created_at")))
    promote_at = property(lambda self: as_int(self._hash.get("promote_at")))
    updated_at = property(lambda self: as_int(self._hash.get("updated_at")))
    started_at = property(lambda self: as_int(self._hash.get("started_at")))
    failed_at = property(lambda self: as_int(self._hash.get("failed_at")))
    duration = property(lambda self: as_int(self._hash.get("duration")))
    error = property(lambda self: self._hash.get("error"))
    worker_id = property(lambda self: self._hash.get("workerId"))
    result = property(lambda self: json_field(self._hash.get("result")))
    progress_data = property(lambda self: json_field(self._hash.get("progress_data")))

    def stored_field(self, name: str) -> str | None:
        """One field of the job hash as last read or written, as text."""
        return self._hash.get(name)

    def refresh(self) -> Job:
        fields = self.queue.store.job_fields(self._require_id())
        if not fields.get("type"):
            raise JobNotFoundError(self.id)
        self._load(fields)
        return self

    def to_json(self) -> dict[str, Any]:
        """Kue's ``toJSON`` (lib/queue/job.js): its keys, order and value types."""
        return kue_json(self.id, self.type, self.data, self._hash, self._options.priority, self._options.max_attempts)

    def save(self) -> Job:
        raise PykueError(f"job {self.id} is already saved; use set_priority()/set_state() to change it")

    # -- transitions --------------------------------------------------------------------------

    # -- cancellation -------------------------------------------------------------------------

    def cancel(self, reason: str = "") -> CancelResult:
        """Fail this job for good with error ``Cancelled: <reason>``, never retried: a queued
        or delayed job at once; a running one also stops, on whichever worker runs it, within
        about a second (see docs/worker.md, Cancellation). A finished job is left as it is."""
        return cancel_job(self.queue.store, self._require_id(), reason)

    @property
    def cancelled(self) -> bool:
        """Cancelled: as its worker found it while running it, or as its hash last read says."""
        error = self._hash.get("error") or ""
        return self._cancelled is not None or (self.state == "failed" and error.startswith(CANCELLED_PREFIX))

    def mark_cancelled(self, error: str) -> None:
        """Its worker found it cancelled: the task's next ``progress``/``log``/``check_cancelled`` raises."""
        self._cancelled = error

    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` once the job's worker has found it cancelled: a ``def`` task
        calls it between steps to stop early."""
        if self._cancelled is not None:
            raise JobCancelled(self.id, self._cancelled)

    def log(self, fmt: Any, *args: Any) -> Job:
        self.check_cancelled()
        line = render_log(fmt, args)
        if not encodes_utf8(line):
            raise InvalidJobError("log", line, "a log line must be valid UTF-8 text (no lone surrogates)")
        if self.queue.store.log_job(self._require_id(), line, now_ms(), self.claim) is ReplyCode.NOT_FOUND:
            raise JobNotFoundError(self.id)
        return self

    def logs(self) -> list[str]:
        return self.queue.job_logs(self._require_id())

    def progress(self, done: Any = MISSING, total: Any = 100, data: Any = None) -> Any:
        if done is MISSING:
            return as_int(self._hash.get("progress")) or 0
        self.check_cancelled()
        percent = progress_percent(done, total)
        data_json = "" if not data else check_json("progress data", data)
        result = self.queue.store.progress_job(self._require_id(), percent, data_json, now_ms(), self.claim)
        if result is ReplyCode.NOT_FOUND:
            raise JobNotFoundError(self.id)
        if result is ReplyCode.DONE:
            self._hash["progress"] = str(percent)
            if data_json:
                self._hash["progress_data"] = data_json
        return self

    def remove(self) -> None:
        if self.queue.store.remove_job(self._require_id()) is None:
            raise JobNotFoundError(self.id)

    def set_state(self, state: Any) -> Job:
        state = check_state(state)
        if self.queue.store.set_state(self._require_id(), state, now_ms()) is None:
            raise JobNotFoundError(self.id)
        return self.refresh()

    def inactive(self) -> Job:
        return self.set_state("inactive")

    def active(self) -> Job:
        return self.set_state("active")

    def complete(self) -> Job:
        return self.set_state("complete")

    def failed(self) -> Job:
        return self.set_state("failed")

    def delayed(self) -> Job:
        return self.set_state("delayed")

    def set_priority(self, level: Any) -> Job:
        value = priority_value(level)
        if not self.queue.store.set_priority(self._require_id(), value, now_ms()):
            raise JobNotFoundError(self.id)
        return self.refresh()

    # -- events -------------------------------------------------------------------------------

    def on(self, event: str, fn: Callable[..., Any]) -> Job:
        """Kue's job events: enqueue, start, promotion, progress, failed attempt, failed, complete, remove."""
        check_listener(event, fn)
        if self._options.events:
            self.queue.events.on_job(self.id, event, fn)
        return self

    def wait(self, timeout: float | None = None) -> R:
        """Block until the job completes (its result) or fails for good (JobFailedError)."""
        check_wait_timeout(timeout)
        job_id = self._require_id()
        waiter = Waiter()
        hub = self.queue.events
        pairs = [("complete", waiter.complete), ("failed", waiter.failed), ("remove", waiter.removed)]
        hub.on_new_job(job_id, pairs)  # with the outcome this process saw before anyone listened
        created = self._hash.get("created_at")
        poll = self._outcome_poller(waiter)
        try:
            outcome = waiter.outcome or poll() or (waiter.outcome if waiter.wait(timeout, poll=poll) else None)
        finally:
            for name, fn in pairs:
                hub.off_job(job_id, name, fn)
        if outcome is None:
            raise TimeoutError(f"job {job_id} did not finish within {timeout}s")
        self._check_same_job(created, self.queue.store.job_fields(job_id).get("created_at"))
        if outcome[0] == "failed" and self.state != "failed":
            try:
                self.refresh()  # the stored error, in full
            except JobNotFoundError:
                pass
        return self.result_of(outcome)

    async def await_result(self, timeout: float | None = None) -> R:
        """``wait`` for asyncio: the event loop runs on meanwhile (pykue/aio/results.py)."""
        check_wait_timeout(timeout)
        return cast(R, await self.queue.aio.await_result(self, timeout))

    def result_of(self, outcome: tuple[str, Any]) -> R:
        """The result of a final ``outcome``, or the error it means (the stored error, from the
        job's hash as last read: the caller reads it again unless it shows the job failed)."""
        kind, value = outcome
        if kind == "complete":
            return cast(R, value)
        if kind == "failed":
            raise JobFailedError(self.id, self._hash.get("error") or str(value))
        raise JobNotFoundError(
            self.id,
            "it was removed before its outcome could be read (a job saved with "
            "removeOnComplete keeps its result only in the `complete` event: to "
            "receive it, listen before the job ends, e.g. call "
            "queue.events.ensure_subscribed() before saving it)",
        )

    def _check_same_job(self, created: str | None, now_created: str | None) -> None:
        """A failover that rolled ``q:ids`` back gives this job's id to another job: its
        outcome is not this job's (the job itself was lost)."""
        if created is not None and now_created is not None and now_created != created:
            raise JobNotFoundError(
                self.id, "it was lost in a Redis failover and its id now belongs to another job (see durable_replicas)"
            )

    def settled(self, fields: dict[str, str], failures_seen: set[str | None]) -> tuple[str, Any] | None:
        """The final outcome ``fields`` (the job's hash read just now, loaded into this job)
        show, if any. `failed` with attempts left counts only when seen twice: a Node Kue
        worker shows `failed` for a moment before it schedules the retry."""
        self._check_same_job(self._hash.get("created_at"), fields.get("created_at"))
        self._load(fields)
        if self.state == "complete":
            return ("complete", self.result)
        if self.state == "failed":
            made, _, maximum = self.attempts()
            failed_at = self._hash.get("failed_at")
            if made >= maximum or failed_at in failures_seen:
                return ("failed", self.error)
            failures_seen.add(failed_at)
        return None

    def _outcome_poller(self, waiter: Waiter) -> Callable[[], tuple[str, Any] | None]:
        """The outcome Redis shows, if final (see ``settled``)."""
        failures_seen: set[str | None] = set()

        def poll() -> tuple[str, Any] | None:
            fields = self.queue.store.job_fields(self._require_id())
            if not fields.get("type"):  # removed on completion: its events may still be on their way
                return waiter.outcome if waiter.done.wait(0.25) else ("remove", None)
            return self.settled(fields, failures_seen)

        return poll

    def _require_id(self) -> int:
        """The id, unless test mode recorded this job instead of saving it."""
        if self.test_only:
            raise PykueError(f"job {self.id} was recorded by test mode and never saved to Redis")
        return self.id
