"""The checks every value bound for a job hash (or a key name) passes, in one place.

Each check returns the value as it will be stored, or raises ``InvalidJobError`` naming the
field and the value. Job, Task and Queue share them, so a value Kue's format cannot hold is
refused the same way whichever door it comes in by, before anything is written, and never
escapes as a bare ``OverflowError`` or ``TypeError`` from deep inside a conversion.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any, TypeGuard

from .exceptions import InvalidJobError
from .job_hash import dumps

JS_MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer JavaScript (Kue) and Lua hold exactly
MAX_ATTEMPTS = JS_MAX_SAFE_INTEGER
MAX_MS = 2**52  # ~142,000 years: now + this stays an integer that JavaScript and Lua hold exactly


def is_number(value: object) -> TypeGuard[int | float]:
    """An int or float; True and False are not numbers here, though Python says they are."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite(value: object) -> TypeGuard[int | float]:
    """A number that is neither NaN nor infinite. An int of any size is finite (``math.isfinite``
    raises OverflowError on one too large for a float)."""
    return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and math.isfinite(value)


def encodes_utf8(text: str) -> bool:
    """False for text holding a lone surrogate, which Redis cannot be sent nor Node read."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(field: str, value: Any, what: str) -> str:
    """A non-empty string of valid UTF-8, e.g. a job type or a key prefix."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidJobError(field, value, f"{what} must be a non-empty string")
    if not encodes_utf8(value):
        raise InvalidJobError(field, value, f"{what} must be valid UTF-8 text (no lone surrogates)")
    return value


def check_type(value: Any) -> str:
    return check_text("type", value, "a job type")


def check_prefix(value: Any) -> str:
    """A queue's key prefix: any non-empty text Redis can be sent (Kue's default is ``q``)."""
    if not isinstance(value, str) or not value or not encodes_utf8(value):
        raise InvalidJobError("prefix", value, "expected a non-empty string of valid UTF-8 text")
    return value


def check_list(field: str, value: Any, what: str) -> list[Any]:
    """An iterable of items (not a string or a dict, whose iteration is rarely what was meant)."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
        raise InvalidJobError(field, value, f"expected {what}")
    return list(value)


def check_count(field: str, value: Any, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise InvalidJobError(field, value, f"expected an integer from 1 to {maximum}")
    return value


def check_attempts(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ATTEMPTS:
        raise InvalidJobError("attempts", value, f"expected an integer from 1 to {MAX_ATTEMPTS}")
    return value


def check_ms(field: str, value: Any) -> int:
    """A duration in milliseconds (a number or a timedelta) that Kue can add to a timestamp."""
    ms = value.total_seconds() * 1000 if isinstance(value, dt.timedelta) else value
    if not is_finite(ms) or not 0 <= ms <= MAX_MS:
        raise InvalidJobError(field, value, f"expected a number of milliseconds from 0 to {MAX_MS} or a timedelta")
    return int(ms)


def check_delay(value: Any) -> int:
    """A delay in ms, a timedelta, or the datetime to run at (one in the past: no delay)."""
    if isinstance(value, dt.datetime):
        try:
            when = value if value.tzinfo else value.astimezone()
            ms = max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds() * 1000)
        except (OverflowError, ValueError):  # a naive datetime.min has no local time
            raise InvalidJobError("delay", value, "a datetime this far off has no local time") from None
        return check_ms("delay", ms)
    return check_ms("delay", value)


def check_seconds(field: str, value: Any, *, maximum: float = MAX_MS / 1000) -> float:
    """A number of seconds from 0 to ``maximum``."""
    if not is_finite(value) or not 0 <= value <= maximum:
        raise InvalidJobError(field, value, f"expected a number of seconds from 0 to {maximum:.0f}")
    return float(value)


def check_flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidJobError(field, value, "expected True or False")
    return value


def check_search_keys(keys: Any) -> list[str]:
    """Kue's searchKeys: one dotted path into the data, or a list of them."""
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        raise InvalidJobError("search_keys", keys, "expected a list of strings")
    return list(keys)


def check_json(field: str, value: Any) -> str:
    """``value`` as the JSON text a hash field holds (e.g. progress data)."""
    try:
        text = dumps(value)
    except (TypeError, ValueError) as error:
        raise InvalidJobError(field, value, f"not JSON-serialisable ({error})") from None
    except RecursionError:
        raise InvalidJobError(field, value, "nested too deeply to serialise") from None
    if not encodes_utf8(text):
        raise InvalidJobError(field, value, "not valid UTF-8 text (it holds a lone surrogate)")
    return text


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


def kue_int(field: str, value: Any) -> int:
    """Kue's ``parseInt`` of an option: "3", "3.7" and 3.7 are 3; anything else is refused."""
    match = re.match(r"\s*([+-]?[0-9]{1,16})", value) if isinstance(value, str) else None
    if match:  # ASCII digits only, as parseInt; a longer run would exceed MAX_ATTEMPTS anyway
        return int(match.group(1))
    if is_finite(value):
        return int(value)
    raise InvalidJobError(field, value, "expected an integer")


def kue_number(field: str, value: Any) -> Any:
    """Options reach Kue through JavaScript, where "5000" is as good as 5000."""
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        raise InvalidJobError(field, value, "expected a number of milliseconds") from None
    return int(number) if number.is_integer() else number


def check_retention(field: str, value: Any) -> bool | int | dict[str, Any]:
    """``remove_on_complete`` / ``remove_on_fail``, in BullMQ's forms: True (remove at once),
    False (keep), a count of the latest jobs to keep, or ``{"age": seconds, "count": n}``."""
    if isinstance(value, bool):
        return value
    expected = 'expected True, False, a count of jobs to keep, or {"age": seconds, "count": n}'
    if isinstance(value, int):
        if not 0 <= value <= JS_MAX_SAFE_INTEGER:
            raise InvalidJobError(field, value, expected)
        return value
    if not isinstance(value, dict) or not value or not set(value) <= {"age", "count"}:
        raise InvalidJobError(field, value, expected)
    rule: dict[str, Any] = {}
    if "count" in value:
        count = value["count"]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= JS_MAX_SAFE_INTEGER:
            raise InvalidJobError(field, value, f"count: {expected}")
        rule["count"] = count
    if "age" in value:
        rule["age"] = check_seconds(field, value["age"])
    return rule


def check_unique_key(value: Any) -> str:
    return check_text("unique_key", value, "a unique key")


RATE_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000}
_RATE = re.compile(r"\s*([0-9]{1,9})\s*/\s*(s|m|h)\s*")


def check_rate_limit(value: Any) -> tuple[int, int] | None:
    """A rate limit as "<n>/s", "/m" or "/h" (None: no limit): (n, window ms)."""
    if value is None:
        return None
    match = _RATE.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) < 1:
        raise InvalidJobError("rate_limit", value, 'expected "<n>/s", "<n>/m" or "<n>/h" with n >= 1, or None')
    return int(match.group(1)), RATE_UNITS[match.group(2)]
