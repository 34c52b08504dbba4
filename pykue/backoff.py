"""Retry delays: Kue's backoff rules (``Job.prototype._getBackoffImpl``, lib/queue/job.js) plus Python strategies.

What Redis holds is only ever ``true`` or a JSON object, which Node Kue reads too. Python
callables ``(attempts, delay_ms) -> ms`` and tenacity wait strategies belong to a task in
the worker process (``@queue.task(backoff=fn)``), never to one job; they are never stored, so
nothing from Redis is ever executed. A
``backoff`` written by Node Kue as JavaScript source is treated as a fixed retry with the
stored delay.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from .exceptions import InvalidJobError
from .fields import MAX_MS, is_finite

BackoffCallable = Callable[[int, int | None], int | float | None]


def is_strategy(value: object) -> bool:
    """A Python callable or tenacity wait object (tenacity waits are callables too)."""
    return callable(value)


def encode_backoff(value: object) -> str | None:
    """Validate a storable backoff and return the hash field text (None: no backoff)."""
    if value is None or value is False:
        return None
    if value is True:
        return "true"
    if isinstance(value, dict):
        kind = value.get("type")
        if kind not in ("fixed", "exponential"):
            raise InvalidJobError("backoff", value, 'type must be "fixed" or "exponential"')
        for key in ("delay", "maxDelay"):
            if key in value and not _is_ms(value[key]):
                raise InvalidJobError("backoff", value, f"{key} must be a number of ms from 0 to {MAX_MS}")
        unknown = set(value) - {"type", "delay", "maxDelay"}
        if unknown:
            raise InvalidJobError("backoff", value, f"unknown keys {sorted(unknown, key=repr)}")
        return json.dumps(value, separators=(",", ":"))
    raise InvalidJobError("backoff", value, "expected True, a dict with a type, a callable or a tenacity wait")


def decode_backoff(text: str | None) -> bool | dict[str, Any] | str | None:
    """The stored field as data. JavaScript source comes back as the string, never evaluated."""
    if text is None or text == "":
        return None
    if text == "true":
        return True
    if text == "false":
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser takes
        return text
    return value if isinstance(value, dict) else text


def _is_ms(value: object) -> bool:
    return is_finite(value) and 0 <= value <= MAX_MS


def kue_delay(backoff: bool | dict[str, Any] | str | None, attempts: int, current_delay: int | None) -> int | None:
    """The delay Kue would compute after ``attempts`` failed attempts (1 on the first failure).

    None means: retry at once (Kue drops a computed delay that is not > 0).
    """
    if backoff is None:
        return None
    # A backoff written by Node Kue may hold numbers as strings ("delay":"100"), which JS
    # arithmetic accepts; an unknown type crashes Kue and is a fixed retry here.
    if not isinstance(backoff, dict) or backoff.get("type") not in ("fixed", "exponential"):
        return _positive(current_delay)
    base = _number(backoff.get("delay")) or current_delay
    if base is None:
        return None
    if backoff.get("type") == "fixed":
        return _positive(base)
    half = base / 2
    delay = half * (2**attempts - 1)
    max_delay = _number(backoff.get("maxDelay"))
    if max_delay:
        delay = min(max_delay - half, delay)
    return _positive(_js_round(delay))


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def strategy_delay(strategy: Any, attempts: int, current_delay: int | None) -> int | None:
    """A Python callable ``(attempts, delay_ms) -> ms`` or a tenacity wait strategy."""
    if _is_tenacity_wait(strategy):
        import tenacity

        state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = attempts
        return _positive(_js_round(strategy(state) * 1000))
    value = strategy(attempts, current_delay)
    if value is None:
        return None
    if not _is_ms(value):
        raise InvalidJobError("backoff", value, "a backoff callable must return a number of ms >= 0")
    return _positive(_js_round(value))


def _is_tenacity_wait(value: object) -> bool:
    try:
        from tenacity.wait import wait_base
    except ImportError:  # pragma: no cover - tenacity is a dependency
        return False
    return isinstance(value, wait_base)


def _js_round(value: float) -> int:
    return int(math.floor(value + 0.5))


def _positive(value: float | int | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
