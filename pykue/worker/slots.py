"""The worker's slots: which jobs run, how many of each type, which types are paused.

Three threads share them (the fetch loop starts jobs, the reporter ends them, the upkeep
pauses types and gives up on jobs) and the jobs' own ``ctx`` pauses them, all under one
lock. Slots are taken and freed only through ``start``, ``release``, ``abandon`` and
``refill_plan``; whether a type takes jobs, and how many slots it has free, is decided in
``_takes`` and ``_free`` alone, from ``_busy``: per type, its runs that hold a slot.

The fetch loop, blocked on Redis for wake-up tokens, cannot see the slots change: it says
so with ``begin_wait``, and a change it must act on (a slot freed, a pause, a resume, a stop)
calls ``interrupt``, which pushes onto its wake-up key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..job import Job
    from ..task import Task

log = logging.getLogger("pykue.worker")


# A run's key, (job id, claim): a job retried at once can start again before its last run is
# released.
RunKey = tuple[int, str]
#: The longest a worker waits before asking again for a type a fleet-wide limit held back.
MAX_HOLD = 1.0


def run_key(job: Job) -> RunKey:
    return job.id, job.claim


@dataclass
class Running:
    job: Job
    task: Task[Any]
    started: float = field(default_factory=time.monotonic)
    abandoned: bool = False
    refilling: bool = False  # its outcome is being reported with a refill claimed for its slot

    @property
    def holds_slot(self) -> bool:
        """Live, or given up on while a refill is claimed for its slot (which the refill takes
        over once this run is released)."""
        return not self.abandoned or self.refilling


class Slots:
    """``limits`` slots per type, handed out at most ``claim_batch`` at a time. ``stopping``
    set: no job starts and no refill is planned. ``interrupt()`` wakes a fetch loop blocked
    on Redis."""

    def __init__(
        self, limits: dict[str, int], claim_batch: int, stopping: threading.Event, interrupt: Callable[[], None]
    ) -> None:
        self._limits = dict(limits)
        self._claim_batch = claim_batch
        self._stopping = stopping
        self._interrupt = interrupt
        self._lock = threading.RLock()  # entered as itself: Condition's __enter__ is Python code
        self._cond = threading.Condition(self._lock)
        self._running: dict[RunKey, Running] = {}
        self._abandoned = 0  # runs in _running given up on
        self._watchers = 0  # threads in wait_idle or wait_others, woken by any run's end
        self._busy: Counter[str] = Counter()
        self._paused: set[str] = set()  # by the queue (Kue's pause), as the upkeep tick reads it
        self._paused_here: set[str] = set()  # by a running job's ctx.pause, in this process
        self._waiting_on: set[str] | None = None  # the types whose tokens the fetch loop blocks on
        self._held: dict[str, float] = {}  # by a fleet-wide limit: type -> until when (monotonic)

    # -- the one rule for a type's intake ---------------------------------------------------

    def _takes(self, job_type: str) -> bool:
        return job_type not in self._paused and job_type not in self._paused_here

    def _is_held(self, job_type: str) -> bool:
        until = self._held.get(job_type)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del self._held[job_type]
        return False

    def _free(self, job_type: str) -> int:
        """Slots to ask for: none while paused, or while a fleet-wide limit holds the type
        back (its jobs claimed meanwhile, by a report's refill, still start)."""
        if not self._takes(job_type) or (self._held and self._is_held(job_type)):
            return 0
        return max(0, self._limits.get(job_type, 0) - self._busy[job_type])

    # -- the doors ----------------------------------------------------------------------------

    def free(self) -> dict[str, int]:
        """How many jobs of each type to claim now: the free slots, up to ``claim_batch``."""
        with self._lock:
            free = {t: self._free(t) for t in self._limits}
        return {t: min(n, self._claim_batch) for t, n in free.items() if n}

    def start(self, job: Job, task: Task[Any]) -> bool:
        """Take a slot for ``job``; False, taking none, once stopping or its type is paused.
        Under the lock ``wait_idle`` holds: a stop either sees this job or refuses it."""
        with self._lock:
            if self._stopping.is_set() or not self._takes(job.type):
                return False
            replaced = self._running.get((job.id, job.claim))
            if replaced is not None and replaced.abandoned:  # the same claim again (a clock step)
                self._abandoned -= 1
            self._running[job.id, job.claim] = Running(job, task)
            self._busy[job.type] += 1
        return True

    def release(self, jobs: list[Job]) -> None:
        """Forget these runs, their outcomes stored, and free their slots: those an abandon
        left taken (its refill is claimed), and those of runs still live."""
        vacated: set[str] = set()
        with self._lock:
            for job in jobs:
                key = job.id, job.claim
                entry = self._running.get(key)
                if entry is None or entry.job is not job:
                    continue
                del self._running[key]
                if entry.abandoned:
                    self._abandoned -= 1
                if entry.holds_slot:
                    self._busy[job.type] -= 1
                    vacated.add(job.type)
            freed = {t for t in vacated if self._free(t)}
            if freed or self._watchers or not self._running:
                self._cond.notify_all()  # not when a refill took the slots: the fetch loop would wake for nothing
            waiting_on = self._waiting_on
        if waiting_on is not None and freed - waiting_on:
            self.wake()

    def abandon(self, job_id: int, claim: str) -> Running | None:
        """Give up on the run of a job that holds ``claim`` (TTL, lost claim, shutdown): free
        its slot now, unless a refill being claimed takes it over (``release`` frees it then).
        Returns the run given up, None if it is not running or was given up already."""
        with self._lock:
            entry = self._running.get((job_id, claim))
            if entry is None or entry.abandoned:
                return None
            entry.abandoned = True
            self._abandoned += 1
            frees = not entry.holds_slot
            if frees:
                self._busy[entry.job.type] -= 1
            if frees or self._watchers:  # no longer live: a wait for the runs to end may be over
                self._cond.notify_all()
        if frees:
            self.wake()
        return entry

    def refill_plan(self, jobs: list[Job]) -> dict[str, int]:
        """How many jobs of each type to claim along with reporting these jobs' outcomes: one
        per slot they free, unless stopping or the type is paused. From then on each such slot
        is handed over to the refill, not freed."""
        plan: dict[str, int] = {}
        with self._lock:
            if self._stopping.is_set():
                return {}
            for job in jobs:
                entry = self._running.get((job.id, job.claim))
                if (
                    entry is not None
                    and entry.job is job
                    and not entry.abandoned
                    and job.type in self._limits
                    and self._takes(job.type)
                ):
                    entry.refilling = True
                    plan[job.type] = plan.get(job.type, 0) + 1
        return plan

    # -- pauses -------------------------------------------------------------------------------

    def set_paused(self, paused: set[str]) -> None:
        """The types the queue has paused (Kue's pause), as the upkeep tick found them."""
        with self._lock:
            known = self._limits.keys()
            resumed, newly_paused = (self._paused - paused) & known, (paused - self._paused) & known
            self._paused = set(paused)
        for word, types in (("paused", newly_paused), ("resumed", resumed)):
            if types:
                log.info("%s: %s", word, ", ".join(sorted(types)))
        if resumed or newly_paused:
            self.wake()  # stop waiting on a paused type's tokens, or start on a resumed one

    def pause_here(self, job_type: str) -> None:
        with self._lock:
            self._paused_here.add(job_type)
        self.wake(only_for=job_type)  # stop waiting on its tokens

    def resume_here(self, job_type: str) -> None:
        with self._lock:
            self._paused_here.discard(job_type)
        self.wake()

    # -- fleet-wide limits ----------------------------------------------------------------------

    def hold(self, waits: dict[str, int]) -> None:
        """Types whose fleet-wide limits (rate, global concurrency) left jobs waiting: ask for
        none of them for the milliseconds the claim said, rather than poll Redis meanwhile,
        but for MAX_HOLD at most: a limit raised or lifted meanwhile takes effect that soon."""
        now = time.monotonic()
        with self._lock:
            for job_type, ms in waits.items():
                self._held[job_type] = now + min(ms / 1000, MAX_HOLD)

    def holding(self) -> bool:
        with self._lock:
            return any(self._is_held(t) for t in list(self._held))

    def timeout(self, longest: float) -> float:
        """How long the fetch loop may wait: no longer than until a held type may be asked again."""
        with self._lock:
            now = time.monotonic()
            self._held = {t: until for t, until in self._held.items() if until > now}
            if not self._held:
                return longest
            left = min(self._held.values()) - now
        return max(0.005, min(longest, left))

    # -- waiting --------------------------------------------------------------------------------

    def wake(self, only_for: str | None = None) -> None:
        """Tell the fetch loop the slots changed; if it is blocked on Redis (with ``only_for``:
        on that type's tokens), interrupt it."""
        with self._lock:
            self._cond.notify_all()
            waiting_on = self._waiting_on
        if waiting_on is not None and (only_for is None or only_for in waiting_on):
            self._interrupt()

    def wait(self, timeout: float) -> None:
        """Sleep until the slots change or ``timeout`` seconds pass."""
        with self._lock:
            self._cond.wait(timeout)

    def wait_for_room(self, timeout: float) -> None:
        """``wait``, unless a slot is free: the check and the sleep under the lock a release
        takes, so a slot freed since the caller last looked is not slept through."""
        with self._lock:
            if not self.free():
                self._cond.wait(timeout)

    def begin_wait(self, wanted: dict[str, int]) -> bool:
        """The fetch loop is about to block on the tokens of ``wanted``'s types: False if it
        must not (stopping, or the free slots changed since ``wanted`` was read)."""
        with self._lock:
            if self._stopping.is_set() or self.free().keys() != wanted.keys():
                return False
            self._waiting_on = set(wanted)
            return True

    def end_wait(self) -> None:
        with self._lock:
            self._waiting_on = None

    def wait_idle(self, deadline: float) -> list[Job]:
        """Wait until no run is live, or until ``deadline`` (monotonic); the jobs still live."""
        with self._lock:
            self._wait_until(lambda: not self.live_count(), deadline)
            return self.live_jobs()

    def wait_others(self, job: Job, deadline: float) -> bool:
        """Wait until no other live run of ``job``'s type is left; False at ``deadline``."""
        with self._lock:
            return self._wait_until(lambda: not self.others_running(job), deadline)

    def _wait_until(self, done: Callable[[], bool], deadline: float) -> bool:
        self._watchers += 1
        try:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True
        finally:
            self._watchers -= 1

    # -- reading --------------------------------------------------------------------------------

    def live_count(self) -> int:
        with self._lock:
            return len(self._running) - self._abandoned

    def live_jobs(self) -> list[Job]:
        with self._lock:
            return [r.job for r in self._running.values() if not r.abandoned]

    def others_running(self, job: Job) -> bool:
        with self._lock:
            return any(r.job.type == job.type and r.job is not job and not r.abandoned for r in self._running.values())

    def holds(self, job_id: int, claim: str) -> bool:
        with self._lock:
            return (job_id, claim) in self._running

    def idle(self) -> bool:
        with self._lock:
            return not self._running

    def started_at(self, jobs: list[Job]) -> list[float | None]:
        """When each job's run started (monotonic), None if it is not running."""
        with self._lock:
            runs = [self._running.get((job.id, job.claim)) for job in jobs]
        return [r.started if r is not None else None for r in runs]

    @property
    def fetch_blocked(self) -> bool:
        """Whether the fetch loop is blocked on Redis for wake-up tokens."""
        with self._lock:
            return self._waiting_on is not None

    def snapshot(self) -> SlotsView:
        with self._lock:
            return SlotsView(dict(self._running), Counter(self._busy), set(self._paused), set(self._paused_here))


class SlotsView(NamedTuple):
    """A copy of the slots' state, for reading from outside."""

    running: dict[RunKey, Running]
    busy: Counter[str]
    paused: set[str]  # by the queue
    paused_here: set[str]  # by a job's ctx, in this process
