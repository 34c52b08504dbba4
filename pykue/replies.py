"""What the Lua transitions answer, read in one place: the status codes and the shapes of
the claim, completion and upkeep replies (each script's header lists its own)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple

import redis


class ReplyCode(IntEnum):
    """A transition's status (BullMQ's error codes, for pykue's scripts): what happened to the
    one job a call was about."""

    DONE = 1
    CLAIM_LOST = 0  # the worker's claim no longer holds (TTL expired, recovered, changed by hand): nothing changed
    NOT_FOUND = -1  # no such job
    NO_LEASE = -2  # a claim for a worker whose lease has expired (it was frozen): nothing claimed

    @classmethod
    def of(cls, reply: Any) -> ReplyCode:
        return _CODES[int(reply)]


_CODES = {code.value: code for code in ReplyCode}


class Claimed(NamedTuple):
    id: int
    claim: str
    fields: dict[str, str]


class Claims(NamedTuple):
    claimed: list[Claimed]
    status: ReplyCode  # DONE, or NO_LEASE: the worker must renew its lease, then claim again
    waits: dict[str, int] = {}  # noqa: RUF012 (never mutated) per type a fleet-wide limit held back: ms to wait


class Woken(NamedTuple):
    popped_key: str | None  # the key BLPOP popped from; None after a timeout or an error
    claimed_at: int  # the claim's time (ms, the worker's clock); -1: skipped for the worker's wake-up
    counts: dict[str, tuple[int, int]]  # per type claimed from: (jobs claimed, tokens consumed)
    claimed: list[Claimed] | None  # None: the script did not run (NOSCRIPT) or failed (error)
    error: redis.ResponseError | None = None  # the BLPOP's or the script's error reply
    status: ReplyCode = ReplyCode.DONE  # NO_LEASE: nothing was claimed, the worker has no lease
    waits: dict[str, int] = {}  # noqa: RUF012 (never mutated) as in Claims


class Completion(NamedTuple):
    replies: list[ReplyCode]  # per completed job: DONE, or CLAIM_LOST (== 0)
    claimed: list[Claimed]  # the jobs claimed to refill the freed slots
    refill_status: ReplyCode = ReplyCode.DONE  # NO_LEASE: no refill, the worker has no lease


class Tick(NamedTuple):
    promoted: int
    expired: list[tuple[int, str]]
    stalled: list[tuple[int, str]]
    paused: set[str]
    mine: list[tuple[int, str]]
    lease_lapsed: bool = False  # the worker's lease key was missing until this tick renewed it


def parse_claimed(flat: list[Any]) -> list[Claimed]:
    """claim_jobs' flat list: id, claim, n_fields, field, value, ... per job."""
    claimed, i = [], 0
    while i < len(flat):
        job_id, claim, n_fields = int(flat[i]), flat[i + 1], int(flat[i + 2])
        values = flat[i + 3 : i + 3 + 2 * n_fields]
        claimed.append(Claimed(job_id, claim, dict(zip(values[::2], values[1::2]))))
        i += 3 + 2 * n_fields
    return claimed


def parse_claims(reply: list[Any]) -> Claims:
    """claim_jobs' reply: its flat list and its status."""
    flat, status, waits = reply
    return Claims(parse_claimed(flat), _CODES[status], _waits(waits))


def parse_completion(reply: list[Any]) -> Completion:
    replies, flat, refill_status = reply
    return Completion([_CODES[r] for r in replies], parse_claimed(flat), _CODES[refill_status])


def parse_tick(reply: list[Any]) -> Tick:
    promoted, expired, stalled, paused, mine, lapsed = reply
    return Tick(int(promoted), _pairs(expired), _pairs(stalled), set(paused), _pairs(mine), lapsed == 1)


def parse_woken(popped: Any, reply: Any) -> Woken:
    """The replies of a BLPOP and of claim_woken.lua behind it (error replies as values).
    After NOSCRIPT (``reply`` a NoScriptError) nothing was claimed: ``claimed`` is None."""
    error = popped if isinstance(popped, redis.ResponseError) else None
    popped_key = popped[0] if popped and error is None else None
    if isinstance(reply, redis.exceptions.NoScriptError):
        return Woken(popped_key, 0, {}, None, error)
    if isinstance(reply, redis.ResponseError):
        return Woken(popped_key, 0, {}, None, reply)
    now, counts, flat, status, waits = reply
    per_type = {counts[i]: (int(counts[i + 1]), int(counts[i + 2])) for i in range(0, len(counts), 3)}
    return Woken(popped_key, int(now), per_type, parse_claimed(flat), error, _CODES[status], _waits(waits))


def _waits(flat: list[Any]) -> dict[str, int]:
    """{type: ms} from a claim's flat list of the types its limits held back."""
    return {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)} if flat else {}


def _pairs(flat: list[Any]) -> list[tuple[int, str]]:
    return [(int(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]
