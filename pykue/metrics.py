"""Prometheus metrics of a queue, read from Redis at each scrape.

Every value comes from Redis, so any process can serve them (the dashboard's ``/metrics``,
``pykue metrics --port N``) and two replicas answer alike. One scrape costs four round
trips and a number of commands bounded by the job types and the live workers: Kue's
per-type state sets are counted with ZCARD, each type's counters and histograms are one
hash kept by the complete and fail scripts (scripts/includes/metrics.lua), and the workers
come from the registry (pykue/registry.py). No job is ever read.

``prometheus_client`` is an optional dependency: ``pip install 'pykue[metrics]'``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .exceptions import ConfigurationError, InvalidJobError
from .fields import check_rate_limit
from .keys import Keys
from .limits import Limits
from .registry import WorkerInfo, read_workers
from .states import STATES

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from .queue import Queue

#: The histograms' bucket bounds in ms: METRIC_BUCKETS_MS of scripts/includes/metrics.lua.
BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 1800000)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Histogram:
    buckets: list[tuple[str, float]]  # (le in seconds, cumulative count), "+Inf" last
    sum_seconds: float


@dataclass(frozen=True)
class TypeStats:
    counts: dict[str, int]  # state -> jobs
    complete: int
    failed: int
    duration: Histogram
    wait: Histogram


@dataclass(frozen=True)
class Snapshot:
    """What one scrape read."""

    types: dict[str, TypeStats]
    paused: set[str]
    limits: dict[str, Limits]
    workers: list[WorkerInfo]


def histogram(counts: Mapping[str, int], sum_ms: int) -> Histogram:
    """The cumulative buckets of one histogram from its counts per bound ("5" ... "inf")."""
    total, buckets = 0, []
    for le in BUCKETS_MS:
        total += counts.get(str(le), 0)
        buckets.append((_seconds_label(le), float(total)))
    total += counts.get("inf", 0)
    buckets.append(("+Inf", float(total)))
    return Histogram(buckets, sum_ms / 1000)


_BOUNDS = frozenset([*(str(le) for le in BUCKETS_MS), "inf"])
_OUTCOMES = {"c": "complete", "f": "failed", "r": None}


def type_stats(counts: dict[str, int], fields: Mapping[str, str]) -> TypeStats:
    """A type's counters and histograms from its stats hash (scripts/includes/metrics.lua):
    each attempt's field "<outcome>:<d>:<w>" counts toward its outcome and both histograms;
    the fields of hashes written before 2026-12-08 ("complete", "d:<le>", ...) are added in.
    A field of no known shape is left out."""
    outcomes = Counter({"complete": _count(fields.get("complete")), "failed": _count(fields.get("failed"))})
    seen: dict[str, Counter[str]] = {"d": Counter(), "w": Counter()}
    for field, value in fields.items():
        parts = field.split(":")
        if len(parts) == 3 and parts[0] in _OUTCOMES and parts[1] in _BOUNDS and parts[2] in _BOUNDS:
            n, outcome = _count(value), _OUTCOMES[parts[0]]
            if outcome is not None:
                outcomes[outcome] += n
            seen["d"][parts[1]] += n
            seen["w"][parts[2]] += n
        elif len(parts) == 2 and parts[0] in seen and parts[1] in _BOUNDS:
            seen[parts[0]][parts[1]] += _count(value)
    return TypeStats(
        counts=counts,
        complete=outcomes["complete"],
        failed=outcomes["failed"],
        duration=histogram(seen["d"], _count(fields.get("d:sum"))),
        wait=histogram(seen["w"], _count(fields.get("w:sum"))),
    )


def _count(value: str | None) -> int:
    """A counter's value; what HINCRBY could not have written (an edit by hand) counts as 0."""
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _seconds_label(ms: int) -> str:
    return re.sub(r"\.?0+$", "", f"{ms / 1000:.3f}")


def read_snapshot(queue: Queue) -> Snapshot:
    client, keys = queue.client, queue.keys
    pipe = client.pipeline(transaction=False)
    pipe.smembers(keys.types)
    pipe.smembers(keys.paused)
    types, paused = cast("tuple[set[str], set[str]]", tuple(pipe.execute()))
    names = sorted(types)
    return Snapshot(_read_types(queue, keys, names), set(paused), queue.limits(), read_workers(client, keys))


def _read_types(queue: Queue, keys: Keys, names: list[str]) -> dict[str, TypeStats]:
    pipe = queue.client.pipeline(transaction=False)
    for name in names:
        for state in STATES:
            pipe.zcard(keys.type_state(name, state))
        pipe.hgetall(keys.type_stats(name))
    replies = pipe.execute()
    width = len(STATES) + 1
    found = {}
    for i, name in enumerate(names):
        part = replies[i * width : (i + 1) * width]
        fields = cast("dict[str, str]", part[-1])
        found[name] = type_stats(dict(zip(STATES, (int(n) for n in part[:-1]))), fields)
    return found


class QueueCollector:
    """A prometheus_client collector reading ``queue`` at every ``collect()``."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def collect(self) -> Iterator[Any]:
        return iter(families(read_snapshot(self.queue)))


def families(snap: Snapshot) -> list[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    jobs = GaugeMetricFamily("pykue_jobs", "Jobs stored, per type and state.", labels=["type", "state"])
    complete = CounterMetricFamily("pykue_jobs_completed", "Jobs completed, per type.", labels=["type"])
    failed = CounterMetricFamily(
        "pykue_jobs_failed", "Jobs failed for good (attempts spent), per type.", labels=["type"]
    )
    duration = HistogramMetricFamily(
        "pykue_job_duration_seconds", "Time a job's attempt ran, per type (every attempt).", labels=["type"]
    )
    wait = HistogramMetricFamily(
        "pykue_job_wait_seconds", "Time a job waited between being due and starting, per type.", labels=["type"]
    )
    for name, stats in snap.types.items():
        for state, n in stats.counts.items():
            jobs.add_metric([name, state], n)
        complete.add_metric([name], stats.complete)
        failed.add_metric([name], stats.failed)
        duration.add_metric([name], stats.duration.buckets, stats.duration.sum_seconds)
        wait.add_metric([name], stats.wait.buckets, stats.wait.sum_seconds)
    return [jobs, complete, failed, duration, wait, *fleet_families(snap)]


def fleet_families(snap: Snapshot) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    live = [w for w in snap.workers if not w.stale]
    workers = GaugeMetricFamily("pykue_workers", "Worker processes heartbeating.", value=len(live))
    stale = GaugeMetricFamily(
        "pykue_workers_stale",
        "Worker processes that stopped heartbeating, until they age out.",
        value=len(snap.workers) - len(live),
    )
    per_type = GaugeMetricFamily("pykue_type_workers", "Live worker processes serving a type.", labels=["type"])
    slots = GaugeMetricFamily("pykue_type_concurrency", "Live workers' slots for a type.", labels=["type"])
    paused = GaugeMetricFamily("pykue_type_paused", "1 while the type is paused (pykue pause).", labels=["type"])
    names = sorted(set(snap.types) | snap.paused | {t for w in live for t in w.types})
    for name in names:
        per_type.add_metric([name], sum(1 for w in live if name in w.types))
        slots.add_metric([name], sum(w.types.get(name, 0) for w in live))
        paused.add_metric([name], 1 if name in snap.paused else 0)
    return [workers, stale, per_type, slots, paused, *limit_families(snap)]


def limit_families(snap: Snapshot) -> list[Any]:
    """The fleet-wide limits in force (pykue/limits.py), for the types that have one."""
    from prometheus_client.core import GaugeMetricFamily

    rate = GaugeMetricFamily(
        "pykue_type_rate_limit_per_second", "A type's fleet-wide rate limit, in starts per second.", labels=["type"]
    )
    concurrency = GaugeMetricFamily(
        "pykue_type_concurrency_limit", "A type's fleet-wide limit of jobs active at once.", labels=["type"]
    )
    for name, limits in snap.limits.items():
        per_second = _per_second(limits.rate_limit)
        if per_second is not None:
            rate.add_metric([name], per_second)
        if limits.global_concurrency:
            concurrency.add_metric([name], limits.global_concurrency)
    return [rate, concurrency]


def _per_second(rate_limit: str | None) -> float | None:
    try:
        n, window_ms = check_rate_limit(rate_limit) or (0, 0)
    except InvalidJobError:  # a window no unit names ("1500ms"), written by hand
        return None
    return n * 1000 / window_ms if n else None


def registry_for(queue: Queue) -> CollectorRegistry:
    """A registry of its own holding only the queue's collector (no process metrics: the
    values describe the queue, whichever process serves them)."""
    try:
        from prometheus_client import CollectorRegistry
    except ImportError:
        raise ConfigurationError("Prometheus metrics need prometheus_client: pip install 'pykue[metrics]'") from None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(queue))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry's metrics in Prometheus' text format."""
    from prometheus_client import generate_latest

    return generate_latest(registry)
