"""Kue's job hash (``<prefix>:job:<id>``) as text: what saving writes, and how each stored
field reads back.

Node Kue and pykue share these hashes, so reading is forgiving: a number field may hold
"Infinity" or "NaN", data may not be JSON; each reads as JavaScript would, never raising.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, NamedTuple

_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_FIELD_DECODER = json.JSONDecoder(parse_constant=lambda _: None)  # NaN, Infinity: null, as in JavaScript
_EXACT = 2**53  # the integers a double holds exactly
_scan_once = _FIELD_DECODER.scan_once  # type: ignore[attr-defined]  # set by __init__, untyped


class Attempts(NamedTuple):
    made: int
    remaining: int
    max: int


def now_ms() -> int:
    """Kue's timestamps: milliseconds since the epoch."""
    return int(time.time() * 1000)


def dumps(value: Any) -> str:
    """JSON as Kue's ``JSON.stringify`` writes it: compact, UTF-8, no NaN."""
    return _encode_json(value)


def as_int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        number = int(value)  # the common case, at a worker's rate per job: no float between
        if -_EXACT <= number <= _EXACT:  # beyond, a float (as JavaScript reads it) rounds
            return number
    except ValueError:
        pass
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # Node may store "Infinity" or "NaN"
        return None


def as_number(value: str | None, default: int) -> Any:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):  # Node may store "Infinity" or "NaN"; JSON.stringify writes null
        return None
    return int(number) if number.is_integer() else number


def json_field(raw: str | None) -> Any:
    """The JSON a field holds, or its text when it is not JSON. Compact JSON (what Kue and
    pykue write) goes straight to the C scanner, skipping ``decode``'s two regex passes for
    whitespace; anything else takes ``decode``, which says the same either way."""
    if raw is None:
        return None
    try:
        if raw and not raw[0].isspace():
            value, end = _scan_once(raw, 0)
            if end == len(raw):
                return value
        return _FIELD_DECODER.decode(raw)
    except StopIteration:  # not JSON at its start: decode gives the same verdict
        return raw
    except (ValueError, RecursionError):
        return raw


def attempts(fields: dict[str, str], maximum: int) -> Attempts:
    made = as_int(fields.get("attempts")) or 0
    return Attempts(made, max(maximum - made, 0) if made else maximum, maximum)


def stored_fields(args: list[Any], now: int) -> dict[str, str]:
    """The hash save_jobs.lua writes for one job's ``args`` (so a saved job needs no read back)."""
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
    if args[8]:
        fields["pykue_unique"], fields["pykue_unique_for"] = args[8], str(args[9])
    if args[10]:
        fields["pykue_keep_complete"] = args[10]
    if args[11]:
        fields["pykue_keep_failed"] = args[11]
    return fields


_PLAIN_FIELDS = (
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
)


def kue_json(
    job_id: int | None, type: str, data: Any, fields: dict[str, str], priority: int, max_attempts: int
) -> dict[str, Any]:
    """Kue's ``toJSON`` (lib/queue/job.js): its keys, order and value types."""
    out: dict[str, Any] = {"id": job_id, "type": type, "data": data}
    if fields.get("result") is not None:
        out["result"] = json_field(fields["result"])
    out["priority"] = as_number(fields.get("priority"), priority)
    out["progress"] = fields["progress"] if fields.get("progress") is not None else 0
    if fields.get("progress_data") is not None:
        out["progress_data"] = json_field(fields["progress_data"])
    for name in _PLAIN_FIELDS:
        if fields.get(name) is not None:
            out[name] = fields[name]
    made, remaining, maximum = attempts(fields, max_attempts)
    out["attempts"] = {"made": made, "remaining": remaining, "max": maximum}
    return out
