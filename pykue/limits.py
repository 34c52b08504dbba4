"""Fleet-wide limits of a job type: at most n starts per second, minute or hour
(``rate_limit``) and at most n jobs active at once (``global_concurrency``), across every
worker sharing the Redis.

They live in Redis (keys.py's ``limits`` hash), where every claim reads them
(scripts/includes/limits.lua). A worker declares its tasks' limits when it starts; a limit
set at run time (``queue.set_rate_limit``) wins over what tasks declare until it is reset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, cast

from .fields import RATE_UNITS, check_count, check_rate_limit, check_type
from .interfaces import BoundStore
from .task import MAX_CONCURRENCY, Task

_UNIT_NAMES = {ms: unit for unit, ms in RATE_UNITS.items()}


class Limits(NamedTuple):
    """A type's limits as they hold now (None: none), and which were set at run time."""

    rate_limit: str | None
    global_concurrency: int | None
    set_at_run_time: frozenset[str]  # "rate_limit" and/or "global_concurrency"


def set_rate_limit(store: BoundStore, job_type: str, rate: str | None) -> None:
    n, window = check_rate_limit(rate) or (0, 0)
    _set(store, "queue", [(check_type(job_type), f"{n} {window}", "")])


def set_global_concurrency(store: BoundStore, job_type: str, limit: int | None) -> None:
    n = 0 if limit is None else check_count("global_concurrency", limit, MAX_CONCURRENCY)
    _set(store, "queue", [(check_type(job_type), "", str(n))])


def reset_limits(store: BoundStore, job_type: str) -> None:
    _set(store, "reset", [(check_type(job_type), "", "")])


def declare_limits(store: BoundStore, tasks: Iterable[Task[Any]]) -> None:
    """A starting worker's tasks' limits (a task without them clears what an older one
    declared); limits set at run time stay."""
    items = []
    for task in tasks:
        n, window = check_rate_limit(task.rate_limit) or (0, 0)
        items.append((task.type, f"{n} {window}", str(task.global_concurrency or 0)))
    if items:
        _set(store, "task", items)


def read_limits(store: BoundStore) -> dict[str, Limits]:
    raw = cast("dict[str, str]", store.client.hgetall(store.keys.limits))
    return {job_type: _parse(value) for job_type, value in sorted(raw.items())}


def _set(store: BoundStore, origin: str, items: list[tuple[str, str, str]]) -> None:
    store.scripts.set_limits(store.client, origin, items)


def _parse(value: str) -> Limits:
    n, window, concurrency, flags = value.split()[:4]
    rate = f"{n}/{_UNIT_NAMES.get(int(window), window + 'ms')}" if int(n) else None
    run_time = {name for flag, name in (("r", "rate_limit"), ("c", "global_concurrency")) if flag in flags}
    return Limits(rate, int(concurrency) or None, frozenset(run_time))
