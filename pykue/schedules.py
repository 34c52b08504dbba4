"""Periodic jobs with no beat process: named schedules kept in Redis (keys.py's
``schedules`` hash and ``schedules_due`` sorted set), fired by every worker's upkeep.

Each due time makes exactly one job across the fleet: a worker reads the due schedules on
Redis's clock and fires each with a compare-and-set on the due time it read
(scripts/fire_schedule.lua), which creates the Kue job and moves the due time on in one
script. A schedule missed while no worker ran fires once when one comes back, and its next
due time is the first one after that moment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, NamedTuple, cast

import redis

from .cron import Periodic
from .fields import check_text
from .interfaces import BoundStore
from .task import Task

log = logging.getLogger("pykue.worker")


class Schedule(NamedTuple):
    name: str
    type: str
    periodic: Periodic
    data: Any
    next_run: datetime  # UTC, on Redis's clock


def add_schedule(store: BoundStore, name: str, job: list[Any], periodic: Periodic, data: Any) -> Schedule:
    """Store the schedule ``name`` making the job ``job`` (save_jobs.lua's values for one
    job) at each due time; the same schedule again keeps its due time."""
    check_text("name", name, "a schedule name")
    spec = {
        "type": job[0],
        "cron": periodic.cron,
        "every": periodic.every,
        "timezone": periodic.timezone,
        "data": data,
        "job": [str(value) for value in job],
    }
    first = periodic.next_after(redis_now_ms(store.client))
    _, due = store.scripts.put_schedule(store.client, name, json.dumps(spec, sort_keys=True), first)
    return Schedule(name, job[0], periodic, data, _utc(due))


def remove_schedule(store: BoundStore, name: str) -> bool:
    return store.scripts.remove_schedule(store.client, check_text("name", name, "a schedule name"))


def read_schedules(store: BoundStore) -> list[Schedule]:
    """Every schedule, the next due first (one whose spec cannot be read is left out)."""
    due = cast("list[tuple[str, float]]", store.client.zrange(store.keys.schedules_due, 0, -1, withscores=True))
    if not due:
        return []
    specs = cast("list[str | None]", store.client.hmget(store.keys.schedules, [name for name, _ in due]))
    out = []
    for (name, at), spec in zip(due, specs):
        try:
            out.append(_schedule(name, spec, int(at)))
        except (TypeError, ValueError, KeyError):
            log.warning("schedule %r has an unreadable spec: %r", name, spec)
    return out


def declare_schedules(store: BoundStore, tasks: Iterable[Task[Any]]) -> None:
    """A starting worker's periodic tasks, each a schedule named after its type."""
    for task in tasks:
        if task.periodic is not None:
            add_schedule(store, task.type, task.build().encode(), task.periodic, {})


def fire_due(store: BoundStore, most: int = 20) -> list[int]:
    """Fire the schedules due by Redis's clock (up to ``most``); the ids of the jobs this
    worker made (other workers may have fired some first)."""
    pipe = store.client.pipeline(transaction=False)
    pipe.time()
    pipe.zrange(store.keys.schedules_due, 0, most - 1, withscores=True)
    (seconds, micros), due = pipe.execute()
    now = seconds * 1000 + micros // 1000
    made = []
    for name, at in cast("list[tuple[str, float]]", due):
        if at > now:
            break
        job_id = _fire(store, name, int(at), now)
        if job_id is not None and job_id < 0:
            log.info("schedule %s: skipped, job %s still holds its unique key", name, -job_id)
        elif job_id is not None:
            log.info("schedule %s: job %s created", name, job_id)
            made.append(job_id)
    return made


def _fire(store: BoundStore, name: str, due: int, now: int) -> int | None:
    spec = cast("str | None", store.client.hget(store.keys.schedules, name))
    try:
        schedule = _schedule(name, spec, due)
    except (TypeError, ValueError, KeyError):
        log.warning("schedule %r has an unreadable spec, not fired: %r", name, spec)
        return None
    return store.scripts.fire_schedule(store.client, name, due, schedule.periodic.next_after(now, due))


def _schedule(name: str, spec: str | None, due: int) -> Schedule:
    if spec is None:
        raise ValueError("no spec")
    fields = json.loads(spec)
    periodic = Periodic(fields["cron"], fields["every"], fields["timezone"])
    return Schedule(name, fields["type"], periodic, fields["data"], _utc(due))


def redis_now_ms(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc)
