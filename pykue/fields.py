"""The checks every value bound for a job hash (or a key name) passes, in one place.

Each check returns the value as it will be stored, or raises ``InvalidJobError`` naming the
field and the value. Job, Task and Queue share them, so a value Kue's format cannot hold is
refused the same way whichever door it comes in by, before anything is written, and never
escapes as a bare ``OverflowError`` or ``TypeError`` from deep inside a conversion.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
from collections.abc import Iterable, Sequence
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
    """``value`` as the JSON text a hash field holds (job data, progress data); refused
    naming the path to the first value that is not JSON (``data.user.born``)."""
    try:
        text = dumps(value)
        text.encode("utf-8")  # lone surrogates cannot be stored (nor read by Node)
    except RecursionError:
        raise InvalidJobError(field, value, "nested too deeply to serialise") from None
    except (TypeError, ValueError) as error:
        found = json_problem(value, field)
        if found is None:  # past the walk's depth, or a subclass that encodes oddly: what json said
            raise InvalidJobError(field, value, f"not JSON-serialisable as UTF-8 ({error})") from None
        raise InvalidJobError(*found) from None
    return text


_JSON_DEPTH = 400  # deeper than any real payload, well within Python's recursion limit
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_problem(value: Any, path: str, depth: int = 0, parents: frozenset[int] = frozenset()) -> Any:
    """Where ``value`` stops being JSON: (path to the bad value, that value, why), or None."""
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, str):
        return None if encodes_utf8(value) else (path, value, "not valid UTF-8 text (it holds a lone surrogate)")
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value, "NaN and infinity are not JSON")
    if depth >= _JSON_DEPTH:
        return None
    if id(value) in parents:
        return path, value, "it contains itself"
    inner = parents | {id(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return path, key, f"a {type(key).__name__} key is not JSON (keys are strings)"
            shown_key = f".{key}" if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else f"[{key!r}]"
            found = json_problem(item, path + shown_key, depth + 1, inner)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = json_problem(item, f"{path}[{index}]", depth + 1, inner)
            if found is not None:
                return found
        return None
    return path, value, f"a {type(value).__name__} is not JSON (convert it to a string, number, list or dict)"


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


class Parameters:
    """A task function's parameters, prepared once, so that checking a call that fits (the
    common one: keywords only, every one known) costs a set operation, not a bind."""

    def __init__(self, signature: inspect.Signature) -> None:
        by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        params = list(signature.parameters.values())
        self.signature = signature
        self.keywords = frozenset(p.name for p in params if p.kind in by_keyword)
        self.required = frozenset(p.name for p in params if p.kind in by_keyword and p.default is p.empty)
        self.any_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
        self.keywords_only = all(p.kind in by_keyword or p.kind is p.VAR_KEYWORD for p in params)

    def check(self, task: str, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        """``check_arguments``, with the shortcut."""
        if not args and self.keywords_only and self.required.issubset(kwargs):
            if self.any_keyword or self.keywords.issuperset(kwargs):
                return
        check_arguments(self.signature, task, args, kwargs)


def check_arguments(signature: inspect.Signature, task: str, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
    """The call a worker will make from a job's data fits the task function's ``signature``:
    a mistake is refused here, naming the argument, not met by the worker as a TypeError
    retried with backoff. A function taking ``**data`` accepts any keyword."""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        field, value, reason = _misfit(signature, args, kwargs) or ("arguments", kwargs, str(error))
        raise InvalidJobError(field, value, f"{reason}; the {task!r} task takes {_plain(signature)}") from None


def _plain(signature: inspect.Signature) -> inspect.Signature:
    """The parameters without their annotations: the names and defaults are what matter here."""
    empty = inspect.Parameter.empty
    parameters = [p.replace(annotation=empty) for p in signature.parameters.values()]
    return signature.replace(parameters=parameters, return_annotation=empty)


def _misfit(signature: inspect.Signature, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[str, Any, str] | None:
    """What is wrong with the call: ("argument", its name, why), or the positional arguments."""
    params = signature.parameters
    kinds = {p.kind for p in params.values()}
    by_keyword = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        for name in kwargs:
            if name not in by_keyword:
                return "argument", name, "the task has no such parameter"
    positional = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(args) > len(positional) and inspect.Parameter.VAR_POSITIONAL not in kinds:
        return "args", list(args), f"the task takes at most {len(positional)} positional argument(s)"
    for param in positional[: len(args)]:
        if param.name in kwargs and param.kind is param.POSITIONAL_OR_KEYWORD:
            return "argument", param.name, "given both by position and by keyword"
    given = {p.name for p in positional[: len(args)]} | set(kwargs)
    for name, param in params.items():
        if param.default is param.empty and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            if name not in given:
                return "argument", name, "missing: the task requires it"
    return None
