"""Every Redis key name pykue uses, in Kue 0.11's layout, and the zid encoding.

This module is the only place that formats a key; the Lua scripts receive them in KEYS
and derive only the keys of jobs and types they find themselves, from the prefix. A prefix written with a hash tag
(``{q}``) makes every key of the queue land in one Redis Cluster slot, exactly as Kue
does under ioredis.
"""

from __future__ import annotations

from .states import STATES

__all__ = ["STATES", "Keys", "strip_zid", "zid"]


def zid(job_id: int | str) -> str:
    """Kue's createFIFO: ``42`` -> ``02|42``; sorts like the number within one score."""
    text = str(job_id)
    return f"{len(text):02d}|{text}"


def strip_zid(member: str) -> int:
    """Kue's stripFIFO: ``03|123`` -> ``123``."""
    return int(member.split("|", 1)[1])


class Keys:
    def __init__(self, prefix: str = "q") -> None:
        self.prefix = prefix
        self.base = prefix + ":"
        self.ids = self.base + "ids"
        self.types = self.base + "job:types"
        self.jobs = self.base + "jobs"
        self.events = self.base + "events"
        self.work_time = self.base + "stats:work-time"
        self.settings = self.base + "settings"
        # pykue's own keys: Kue never reads anything under "<prefix>:pykue:".
        self.own = self.base + "pykue:"
        self.workers = self.own + "workers"  # the live workers' index (pykue/registry.py)
        self.paused = self.own + "paused"
        self.limits = self.own + "limits"  # fleet-wide rate and concurrency limits, by type
        self.schedules = self.own + "schedules"  # periodic jobs: name -> spec (JSON)
        self.schedules_due = self.own + "schedules:due"  # name -> next due time (ms)
        self.states = tuple(self.state(s) for s in STATES)  # the five state sets, as scripts take them

    def job(self, job_id: int | str) -> str:
        return f"{self.base}job:{job_id}"

    def log(self, job_id: int | str) -> str:
        return f"{self.base}job:{job_id}:log"

    def state(self, state: str) -> str:
        return f"{self.base}jobs:{state}"

    def type_state(self, job_type: str, state: str) -> str:
        return f"{self.base}jobs:{job_type}:{state}"

    def tokens(self, job_type: str) -> str:
        return f"{self.base}{job_type}:jobs"

    def search_word(self, word: str) -> str:
        return f"{self.base}search:word:{word}"

    def search_object(self, job_id: int | str) -> str:
        return f"{self.base}search:object:{job_id}"

    def metric(self, kind: str, minute: int) -> str:
        return f"{self.own}metrics:{kind}:{minute}"

    def metric_at(self, kind: str, now_ms: int) -> str:
        """The per-minute counter of ``kind`` (complete, failed) for the minute of ``now_ms``."""
        return self.metric(kind, now_ms // 60000)

    def type_stats(self, job_type: str) -> str:
        """A type's counters and histograms (scripts/includes/metrics.lua), for /metrics."""
        return f"{self.own}stats:{job_type}"

    def worker_record(self, worker_id: str) -> str:
        """What a worker is and runs now (pykue/registry.py), living as long as its lease."""
        return f"{self.own}record:{worker_id}"

    def worker_lease(self, worker_id: str) -> str:
        return f"{self.own}worker:{worker_id}"

    def wake(self, worker_id: str) -> str:
        return f"{self.own}wake:{worker_id}"

    def unique(self, key: str) -> str:
        """A unique job's key (``<type>:<key>``), holding the id of the job that owns it."""
        return f"{self.own}unique:{key}"

    def cancel_requests(self, worker_id: str) -> str:
        """The ids of jobs cancelled while a worker runs them, for it to stop (a set)."""
        return f"{self.own}cancel:{worker_id}"

    def finished(self, job_type: str, state: str) -> str:
        """The zids of a type's jobs kept under a retention rule in ``state`` (complete, failed),
        scored by finish time."""
        return f"{self.own}finished:{job_type}:{state}"

    def rate(self, job_type: str) -> str:
        """The starts of ``job_type`` in its rate limit's sliding window."""
        return f"{self.own}rate:{job_type}"

    def flow(self, job_id: int | str) -> str:
        """A workflow's links (pykue/canvas.py), named by its first step's job id."""
        return f"{self.own}flow:{job_id}"
