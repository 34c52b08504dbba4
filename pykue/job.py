"""A Kue job: the fluent builder, its stored fields, and its own transitions.

Setters return the job so calls chain (``queue.create("email", d).priority("high").save()``);
called with no argument, the same methods return the current value, as Kue's do.
The job hash in Redis is the truth: every change goes through one Lua script that reads
the job's current state there, never this object's memory of it.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from . import backoff as backoff_rules
from .events import Waiter, check_listener
from .exceptions import InvalidJobError, JobFailedError, JobNotFoundError, PykueError
from .fields import check_attempts, check_delay, check_flag, check_ms, check_search_keys, is_finite, is_number
from .fields import check_type as check_type  # re-exported: Queue checks types with it
from .fields import encodes_utf8 as encodes_utf8  # re-exported: the web API and the worker use it
from .interfaces import JobQueue
from .logformat import render_log
from .replies import ReplyCode
from .states import check_state, priority_value

_MISSING: Any = object()


def now_ms() -> int:
    return int(time.time() * 1000)


_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def dumps(value: Any) -> str:
    return _encode_json(value)


class Attempts(NamedTuple):
    made: int
    remaining: int
    max: int


class Job:
    def __init__(self, queue: JobQueue[Job], type: str, data: Any = None) -> None:
        self._blank(queue, check_type(type), data)

    def _blank(self, queue: JobQueue[Job], type: str, data: Any = None) -> None:
        self.queue = queue
        self.id: int | None = None
        self.type = type
        self.data: Any = {} if data is None else data
        self._priority = 0
        self._max_attempts = 1
        self._backoff: Any = None
        self._delay: int | None = None
        self._ttl: int | None = None
        self._remove_on_complete = False
        self._search_keys: list[str] | None = None
        self._events = queue.job_events  # Kue's jobEvents: whether this object hears its job's events
        self._hash: dict[str, str] = {}
        self._listeners: list[tuple[str, Callable[..., Any]]] = []
        self.claim: str = ""  # set by the worker that runs the job; fences its writes
        self.ctx: Any = None  # Kue's ctx (pause/resume) while a worker runs the job
        self.test_only = False

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.type!r} {self.state}>"

    # -- fluent setters, zero-argument getters -------------------------------------------------

    def priority(self, level: Any = _MISSING) -> Any:
        if level is _MISSING:
            return self._priority
        self._priority = priority_value(level)
        return self

    def attempts(self, n: Any = _MISSING) -> Any:
        if n is _MISSING:
            made = _int(self._hash.get("attempts")) or 0
            return Attempts(made, max(self._max_attempts - made, 0) if made else self._max_attempts, self._max_attempts)
        self._max_attempts = check_attempts(n)
        return self

    def backoff(self, value: Any = _MISSING) -> Any:
        """Kue's backoff, stored with the job: True, or ``{"type": "fixed"|"exponential", ...}``.

        A Python callable cannot be stored, so it cannot belong to one job: it is declared on
        the task (``@queue.task("t", backoff=fn)``) and governs the jobs of that type that
        carry no backoff of their own."""
        if value is _MISSING:
            return self._backoff
        if backoff_rules.is_strategy(value):
            raise InvalidJobError(
                "backoff",
                value,
                "a Python callable or tenacity wait cannot be stored with one "
                f"job; declare it on the task: @queue.task({self.type!r}, backoff=fn)",
            )
        backoff_rules.encode_backoff(value)
        self._backoff = value
        return self

    def delay(self, value: Any = _MISSING) -> Any:
        if value is _MISSING:
            return self._delay
        self._delay = check_delay(value) or None
        return self

    def ttl(self, ms: Any = _MISSING) -> Any:
        if ms is _MISSING:
            return self._ttl
        self._ttl = check_ms("ttl", ms) or None
        return self

    def remove_on_complete(self, value: Any = _MISSING) -> Any:
        if value is _MISSING:
            return self._remove_on_complete
        self._remove_on_complete = check_flag("remove_on_complete", value)
        return self

    def search_keys(self, keys: Any = _MISSING) -> Any:
        if keys is _MISSING:
            return self._search_keys
        self._search_keys = check_search_keys(keys)
        return self

    def events(self, enabled: Any = _MISSING) -> Any:
        if enabled is _MISSING:
            return self._events
        self._events = check_flag("events", enabled)
        return self

    def apply_kue_options(self, options: dict[str, Any]) -> Job:
        """Kue's ``options`` object (POST /job): truthy keys applied, unknown keys refused."""
        if not isinstance(options, dict):
            raise InvalidJobError("options", options, "expected an object")
        setters: dict[str, Callable[[Any], Any]] = {
            "attempts": lambda v: self.attempts(_kue_int("attempts", v)),
            "priority": self.priority,
            "delay": lambda v: self.delay(_kue_number("delay", v)),
            "searchKeys": self.search_keys,
            "backoff": self._kue_backoff,
            "removeOnComplete": lambda v: self.remove_on_complete(True),  # Kue: any truthy value
            "ttl": lambda v: self.ttl(_kue_number("ttl", v)),
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

    # -- stored fields ------------------------------------------------------------------------

    @property
    def state(self) -> str | None:
        return self._hash.get("state")

    created_at = property(lambda self: _int(self._hash.get("created_at")))
    promote_at = property(lambda self: _int(self._hash.get("promote_at")))
    updated_at = property(lambda self: _int(self._hash.get("updated_at")))
    started_at = property(lambda self: _int(self._hash.get("started_at")))
    failed_at = property(lambda self: _int(self._hash.get("failed_at")))
    duration = property(lambda self: _int(self._hash.get("duration")))
    error = property(lambda self: self._hash.get("error"))
    worker_id = property(lambda self: self._hash.get("workerId"))
    result = property(lambda self: _json_field(self._hash.get("result")))
    progress_data = property(lambda self: _json_field(self._hash.get("progress_data")))

    @classmethod
    def from_hash(cls, queue: JobQueue[Job], job_id: int, fields: dict[str, str]) -> Job:
        job = cls.__new__(cls)
        job._blank(queue, fields.get("type") or "?")  # a stored type is text Redis took: no check
        job.id = int(job_id)
        job._load(fields)
        return job

    def _load(self, fields: dict[str, str]) -> None:
        self._hash = dict(fields)
        self.type = fields.get("type", self.type)
        raw = fields.get("data")
        self.data = _json_field(raw) if raw is not None else {}
        self._priority = _int(fields.get("priority")) or 0
        self._max_attempts = _int(fields.get("max_attempts")) or 1
        self._delay = _int(fields.get("delay"))
        self._ttl = _int(fields.get("ttl"))
        self._backoff = backoff_rules.decode_backoff(fields.get("backoff"))
        self._remove_on_complete = bool(fields.get("removeOnComplete"))  # Kue: any non-empty value

    def refresh(self) -> Job:
        fields = self.queue.store.job_fields(self._require_id())
        if not fields.get("type"):
            raise JobNotFoundError(self.id)
        self._load(fields)
        return self

    def to_json(self) -> dict[str, Any]:
        """Kue's ``toJSON`` (lib/queue/job.js): its keys, order and value types."""
        h = self._hash
        out: dict[str, Any] = {"id": self.id, "type": self.type, "data": self.data}
        if h.get("result") is not None:
            out["result"] = self.result
        out["priority"] = _number(h.get("priority"), self._priority)
        out["progress"] = h["progress"] if h.get("progress") is not None else 0
        if h.get("progress_data") is not None:
            out["progress_data"] = self.progress_data
        for name in (
            "state",
            "error",
            "created_at",
            "promote_at",
            "updated_at",
            "failed_at",
            "started_at",
            "duration",
            "delay",
            "workerId",
            "ttl",
        ):
            if h.get(name) is not None:
                out[name] = h[name]
        made, remaining, maximum = self.attempts()
        out["attempts"] = {"made": made, "remaining": remaining, "max": maximum}
        return out

    # -- saving -------------------------------------------------------------------------------

    def encode(self) -> list[Any]:
        """This job's arguments to save_jobs.lua (validated; nothing is written here)."""
        stored_backoff = backoff_rules.encode_backoff(self._backoff) or ""
        try:
            data = dumps(self.data)
            data.encode("utf-8")  # lone surrogates cannot be stored (nor read by Node)
        except (TypeError, ValueError) as error:
            raise InvalidJobError("data", self.data, f"not JSON-serialisable as UTF-8 ({error})") from None
        except RecursionError:
            raise InvalidJobError("data", self.data, "nested too deeply to serialise") from None
        words = self.queue.index_words(self.data, self._search_keys) if self.queue.search_enabled else ()
        return [
            self.type,
            data,
            self._priority,
            self._max_attempts,
            self._delay or 0,
            self._ttl or 0,
            stored_backoff,
            "true" if self._remove_on_complete else "",
            len(words),
            *words,
        ]

    @staticmethod
    def stored_fields(args: list[Any], now: int) -> dict[str, str]:
        """The hash save_jobs.lua writes for ``args`` (so a saved job needs no read back)."""
        delay = int(args[4])
        fields = {
            "type": args[0],
            "data": args[1],
            "priority": str(args[2]),
            "max_attempts": str(args[3]),
            "created_at": str(now),
            "promote_at": str(now + delay),
            "updated_at": str(now),
            "state": "delayed" if delay else "inactive",
        }
        if delay:
            fields["delay"] = str(delay)
        if args[5]:
            fields["ttl"] = str(args[5])
        if args[6]:
            fields["backoff"] = args[6]
        if args[7]:
            fields["removeOnComplete"] = args[7]
        return fields

    def save(self) -> Job:
        if self.id is not None:
            raise PykueError(f"job {self.id} is already saved; use set_priority()/set_state() to change it")
        self.queue.save_jobs([self])
        return self

    def _saved(self, job_id: int, fields: dict[str, str]) -> None:
        self.id = job_id
        self._hash = fields
        if self._listeners and self._events:
            self.queue.events.on_new_job(job_id, self._listeners)

    # -- transitions on a saved job -----------------------------------------------------------

    def log(self, fmt: Any, *args: Any) -> Job:
        line = render_log(fmt, args)
        if not encodes_utf8(line):
            raise InvalidJobError("log", line, "a log line must be valid UTF-8 text (no lone surrogates)")
        if self.queue.store.log_job(self._require_id(), line, now_ms(), self.claim) is ReplyCode.NOT_FOUND:
            raise JobNotFoundError(self.id)
        return self

    def logs(self) -> list[str]:
        return self.queue.job_logs(self._require_id())

    def progress(self, done: Any = _MISSING, total: Any = 100, data: Any = None) -> Any:
        if done is _MISSING:
            return _int(self._hash.get("progress")) or 0
        percent = progress_percent(done, total)
        data_json = "" if not data else _dumps_field("progress data", data)
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
        if self.id is None:
            self._listeners.append((event, fn))
        elif self._events:
            self.queue.events.on_job(self.id, event, fn)
        return self

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the job completes (its result) or fails for good (JobFailedError)."""
        if timeout is not None and (not is_number(timeout) or math.isnan(timeout)):
            raise InvalidJobError("timeout", timeout, "expected a number of seconds, or None to wait for ever")
        job_id = self._require_id()
        waiter = Waiter()
        hub = self.queue.events
        pairs = [("complete", waiter.complete), ("failed", waiter.failed), ("remove", waiter.removed)]
        hub.on_new_job(job_id, pairs)  # with the outcome this process saw before anyone listened
        poll = self._outcome_poller(waiter)
        try:
            outcome = waiter.outcome or poll() or (waiter.outcome if waiter.wait(timeout, poll=poll) else None)
        finally:
            for name, fn in pairs:
                hub.off_job(job_id, name, fn)
        if outcome is None:
            raise TimeoutError(f"job {job_id} did not finish within {timeout}s")
        kind, value = outcome
        if kind == "complete":
            return value
        if kind == "failed":
            error = self._hash.get("error") if self._hash.get("state") == "failed" else None
            raise JobFailedError(job_id, error or self._stored_error(value))
        raise JobNotFoundError(
            job_id,
            "it was removed before its outcome could be read (a job saved with "
            "removeOnComplete keeps its result only in the `complete` event: to "
            "receive it, listen before the job ends, e.g. call "
            "queue.events.ensure_subscribed() before saving it)",
        )

    def _outcome_poller(self, waiter: Waiter) -> Callable[[], tuple[str, Any] | None]:
        """The outcome Redis shows, if final. `failed` with attempts left counts only when seen
        twice: a Node Kue worker shows `failed` for a moment before it schedules the retry."""
        failures_seen: set[str | None] = set()

        def poll() -> tuple[str, Any] | None:
            try:
                self.refresh()
            except JobNotFoundError:  # removed on completion: its events may still be on their way
                return waiter.outcome if waiter.done.wait(0.25) else ("remove", None)
            if self.state == "complete":
                return ("complete", self.result)
            if self.state == "failed":
                made, _, maximum = self.attempts()
                failed_at = self._hash.get("failed_at")
                if made >= maximum or failed_at in failures_seen:
                    return ("failed", self.error)
                failures_seen.add(failed_at)
            return None

        return poll

    def _stored_error(self, message: Any) -> str:
        try:
            return self.refresh().error or str(message)
        except JobNotFoundError:
            return str(message)

    def _require_id(self) -> int:
        if self.id is None:
            raise PykueError("the job has not been saved yet")
        if self.test_only:
            raise PykueError(f"job {self.id} was recorded by test mode and never saved to Redis")
        return self.id


def progress_percent(done: Any, total: Any) -> int:
    for name, value in (("progress", done), ("progress total", total)):
        if not is_finite(value):
            raise InvalidJobError(name, value, "expected a finite number")
    if total == 0:
        return 0
    try:
        percent = done * 100 / total
    except OverflowError:  # int / int beyond a float
        percent = math.inf
    if not math.isfinite(percent):
        raise InvalidJobError("progress", done, "done * 100 / total is too large for a number")
    return min(100, int(percent))  # Kue: min(100, x | 0), no lower clamp


def _dumps_field(name: str, value: Any) -> str:
    try:
        text = dumps(value)
    except (TypeError, ValueError) as error:
        raise InvalidJobError(name, value, f"not JSON-serialisable ({error})") from None
    except RecursionError:
        raise InvalidJobError(name, value, "nested too deeply to serialise") from None
    if not encodes_utf8(text):
        raise InvalidJobError(name, value, "not valid UTF-8 text (it holds a lone surrogate)")
    return text


def _kue_int(field: str, value: Any) -> int:
    """Kue's ``parseInt`` of an option: "3", "3.7" and 3.7 are 3; anything else is refused."""
    match = re.match(r"\s*([+-]?[0-9]{1,16})", value) if isinstance(value, str) else None
    if match:  # ASCII digits only, as parseInt; a longer run would exceed MAX_ATTEMPTS anyway
        return int(match.group(1))
    if is_finite(value):
        return int(value)
    raise InvalidJobError(field, value, "expected an integer")


def _kue_number(field: str, value: Any) -> Any:
    """Options reach Kue through JavaScript, where "5000" is as good as 5000."""
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        raise InvalidJobError(field, value, "expected a number of milliseconds") from None
    return int(number) if number.is_integer() else number


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # Node may store "Infinity" or "NaN"
        return None


def _number(value: str | None, default: int) -> Any:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):  # Node may store "Infinity" or "NaN"; JSON.stringify writes null
        return None
    return int(number) if number.is_integer() else number


_FIELD_DECODER = json.JSONDecoder(parse_constant=lambda _: None)  # NaN, Infinity: null, as in JavaScript


def _json_field(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return _FIELD_DECODER.decode(raw)
    except (ValueError, RecursionError):
        return raw
