"""How the API reads what Kue's clients send: the way JavaScript would, and no further.

Kue fed path segments to ``parseInt`` and bodies to ``JSON.parse``, then handed whatever
came out to Redis. The readers here keep those readings for valid input (``7abc`` is 7),
but what Kue turned into NaN or an error from Redis becomes :class:`InvalidInputError`,
a ``400`` naming the value. Only ASCII digits count, as in JavaScript: Python's ``int``
also reads other Unicode digits (Arabic-Indic ``١`` is 1), and ``str.isdigit`` is even true
for ``²``, which ``int`` then refuses.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from werkzeug.routing import BaseConverter

from ..fields import encodes_utf8

_JS_INT = re.compile(r"\s*([+-]?)([0-9]+)")
#: parseInt reads longer digit runs as Infinity (JavaScript's largest number has 309 digits).
_JS_MAX_DIGITS = 309
#: Redis reads ranks as signed 64-bit integers.
RANK_LIMIT = 2**63
#: Kue reads the id into the key ``q:job:<id>`` as written: ``007`` names no job, not job 7.
_JOB_ID = re.compile(r"[1-9][0-9]{0,18}")


class InvalidInputError(Exception):
    """A request no route can use, answered ``400 {"error": ...}`` with this message."""


class RangeConverter(BaseConverter):
    """Kue's ``:from..:to`` segment: ``from`` is anything but ``/``, ``to`` has no ``.`` either.

    It stays text, read by :func:`ranks`, so that a bad range gets a 400 naming it, not a 404.
    """

    regex = r"[^/]+\.\.[^/.]+"


def parse_int(text: str) -> int | float | None:
    """JavaScript's ``parseInt(text, 10)``: leading ASCII digits count, anything else is NaN
    (None), and more digits than a JavaScript number holds are an infinity."""
    match = _JS_INT.match(text)
    if not match:
        return None
    sign, digits = match.groups()
    if len(digits.lstrip("0")) > _JS_MAX_DIGITS:
        return -math.inf if sign == "-" else math.inf
    return int(sign + digits)


def ranks(span: str) -> tuple[int, int]:
    """``from..to`` read with parseInt, as Kue reads it; where Kue sent Redis a NaN (or a
    number Redis cannot read) and relayed its error, this refuses the range by name."""
    start, stop = (parse_int(part) for part in span.rsplit("..", 1))
    if isinstance(start, int) and isinstance(stop, int) and all(-RANK_LIMIT <= n < RANK_LIMIT for n in (start, stop)):
        return start, stop
    raise InvalidInputError(
        f"invalid range {shorten(span)!r}: expected from..to, two integers from -2^63"
        " to 2^63-1 (negative ones count from the end)"
    )


def shown(value: Any) -> str:
    """A value as the HTTP client sent it (JSON: true, null, {"a": 1}), shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        if not encodes_utf8(text):  # a lone surrogate: written as the \u escape JSON.stringify writes
            text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = "<a value nested too deeply to show>" if isinstance(value, (list, dict)) else repr(value)
    return shorten(text)


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def is_job_id(text: str) -> bool:
    """A positive integer in ASCII digits, without leading zeros, that Redis could have counted to:
    the only ids Kue ever stored, so any other names no job."""
    return _JOB_ID.fullmatch(text) is not None


def parse_body(raw: bytes) -> Any:
    """The body as ``JSON.parse`` reads it: an integer too long for a double is an infinity
    (which the options then refuse by name), not a Python digit-limit error."""
    try:
        return json.loads(raw, parse_int=js_int, parse_constant=_not_json)
    except ValueError as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInputError("request body is not valid JSON: nested too deeply") from None


def _not_json(name: str) -> Any:
    """Python's json reads NaN and Infinity; JSON (and Kue's JSON.parse) does not."""
    raise ValueError(f"{name} is not a JSON value")


def js_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-0")) <= _JS_MAX_DIGITS else float(text)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness: ``[]`` and ``{}`` are true, ``0``, ``""`` and ``null`` are not."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == value and value != 0  # NaN is falsy
    return True
