"""A job's options (priority, attempts, backoff, delay, TTL, ...) and Kue's fluent methods on
them: given a value, a method checks it, keeps it and returns the job, so calls chain
(``queue.create("email", d).priority("high").attempts(3).save()``); given none, it returns
the current value, as Kue's do.

A draft and the job it is saved as share one ``Options``: the stored job reads its options
back from Redis into it (``refresh``), and the draft still answers with the stored values.
"""

from __future__ import annotations

from typing import Any

from . import backoff as backoff_rules
from .exceptions import InvalidJobError
from .fields import (
    check_attempts,
    check_delay,
    check_flag,
    check_ms,
    check_retention,
    check_search_keys,
    check_seconds,
    check_unique_key,
)
from .job_hash import Attempts
from .states import priority_value

MISSING: Any = object()


class Options:
    """The values the fluent methods set; ``events`` is Kue's ``jobEvents`` (not stored).
    Unset options read the class defaults (a draft per enqueue: making one stays cheap)."""

    priority: int = 0
    max_attempts: int = 1
    backoff: Any = None
    delay: int | None = None
    ttl: int | None = None
    remove_on_complete: Any = False  # True, False, a count to keep or {"age": s, "count": n}
    remove_on_fail: Any = False
    unique: str | bool = False  # True: the key is the job's data
    unique_for: int = 0  # ms the unique key outlives the job's end
    search_keys: list[str] | None = None
    events: bool = True


class OptionMethods:
    """Kue's option methods, for a class that holds ``_options`` and knows its ``type``."""

    type: str
    _options: Options

    def _attempts_made(self) -> int:
        """Attempts already made (0 until a worker has run the job)."""
        raise NotImplementedError

    def priority(self, level: Any = MISSING) -> Any:
        if level is MISSING:
            return self._options.priority
        self._options.priority = priority_value(level)
        return self

    def attempts(self, n: Any = MISSING) -> Any:
        if n is MISSING:
            made, maximum = self._attempts_made(), self._options.max_attempts
            return Attempts(made, max(maximum - made, 0) if made else maximum, maximum)
        self._options.max_attempts = check_attempts(n)
        return self

    def backoff(self, value: Any = MISSING) -> Any:
        """Kue's backoff, stored with the job: True, or ``{"type": "fixed"|"exponential", ...}``.

        A Python callable cannot be stored, so it cannot belong to one job: it is declared on
        the task (``@queue.task("t", backoff=fn)``) and governs the jobs of that type that
        carry no backoff of their own."""
        if value is MISSING:
            return self._options.backoff
        if backoff_rules.is_strategy(value):
            raise InvalidJobError(
                "backoff",
                value,
                "a Python callable or tenacity wait cannot be stored with one "
                f"job; declare it on the task: @queue.task({self.type!r}, backoff=fn)",
            )
        backoff_rules.encode_backoff(value)
        self._options.backoff = value
        return self

    def delay(self, value: Any = MISSING) -> Any:
        if value is MISSING:
            return self._options.delay
        self._options.delay = check_delay(value) or None
        return self

    def ttl(self, ms: Any = MISSING) -> Any:
        if ms is MISSING:
            return self._options.ttl
        self._options.ttl = check_ms("ttl", ms) or None
        return self

    def remove_on_complete(self, value: Any = MISSING) -> Any:
        """True (Kue's removeOnComplete), False, a count of the latest completed jobs of the
        type to keep, or ``{"age": seconds, "count": n}`` (see docs/jobs.md, Retention)."""
        if value is MISSING:
            return self._options.remove_on_complete
        self._options.remove_on_complete = check_retention("remove_on_complete", value)
        return self

    def remove_on_fail(self, value: Any = MISSING) -> Any:
        """``remove_on_complete``'s forms, for jobs that failed for good."""
        if value is MISSING:
            return self._options.remove_on_fail
        self._options.remove_on_fail = check_retention("remove_on_fail", value)
        return self

    def unique(self, key: Any = MISSING, for_seconds: Any = 0) -> Any:
        """While a job of this type with the same key (``True``: the same data) is queued,
        delayed or running, and ``for_seconds`` after it ended, saving creates nothing and
        returns that job (``job.duplicate_of``)."""
        if key is MISSING:
            return self._options.unique
        self._options.unique = key if isinstance(key, bool) else check_unique_key(key)
        self._options.unique_for = int(check_seconds("unique_for", for_seconds) * 1000)
        return self

    def search_keys(self, keys: Any = MISSING) -> Any:
        if keys is MISSING:
            return self._options.search_keys
        self._options.search_keys = check_search_keys(keys)
        return self

    def events(self, enabled: Any = MISSING) -> Any:
        if enabled is MISSING:
            return self._options.events
        self._options.events = check_flag("events", enabled)
        return self
