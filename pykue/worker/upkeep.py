"""A worker's periodic upkeep thread around the ``tick`` script (see scripts/tick.lua):
promote delayed jobs, fail TTL-expired and stalled jobs, renew the lease, follow pauses,
notice when another process took one of our running jobs away, stop cancelled runs, and fire
due schedules (schedules.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import redis

from ..job import Job
from ..job_hash import now_ms
from ..limits import declare_limits
from ..schedules import declare_schedules, fire_due
from .execution import failure_text
from .lease import lease_ms
from .report_args import fail_args
from .slots import run_key
from .supervisor import supervisor_gone

if TYPE_CHECKING:
    from ..queue import Queue
    from ..task import Task
    from ..worker_store import WorkerStore
    from .slots import Slots

log = logging.getLogger("pykue.worker")
TTL_MESSAGE = "TTL exceeded"
STALLED_MESSAGE = "Stalled: the worker running this job stopped (no heartbeat)"
CANCEL_TICKS = 5  # ticks a cancelled run not found running is looked for (claimed, not yet started)


class Upkeep:
    """Ticks every ``interval`` seconds for the worker ``worker_id`` of ``types``, following
    pauses into ``slots``. ``stop()`` stops the worker (its supervisor is gone),
    ``measure_clock()`` measures its clock against Redis's, ``abandon(job_id, claim)`` gives
    up on a job it runs whose claim was failed here or taken away elsewhere, ``lease_lapsed()``
    reports that the tick found the worker's lease gone (and renewed it), ``heartbeat(lease_ms)``
    writes the worker's record for the registry."""

    def __init__(
        self,
        queue: Queue,
        store: WorkerStore,
        slots: Slots,
        worker_id: str,
        types: list[str],
        stopping: threading.Event,
        *,
        stop: Callable[[], None],
        measure_clock: Callable[[], None],
        abandon: Callable[[int, str], None],
        lease_lapsed: Callable[[], None],
        interval: float,
        stalled_timeout: float,
        heartbeat: Callable[[int], None] = lambda lease_ms: None,
    ) -> None:
        if stalled_timeout < 2 * interval:
            raise ValueError(
                f"stalled_timeout ({stalled_timeout}s) must be at least twice the promotion interval ({interval}s)"
            )
        self._queue = queue
        self._store = store
        self._slots = slots
        self._worker_id = worker_id
        self._types = types
        self._stopping = stopping
        self._stop_worker = stop
        self._measure_clock = measure_clock
        self._abandon = abandon
        self._lease_lapsed = lease_lapsed
        self._heartbeat = heartbeat
        self.interval = interval
        self.lease_ms = lease_ms(stalled_timeout)
        self.stalled_every = max(1, int(stalled_timeout * 0.15 / interval))
        self.reconcile_every = max(1, int(30 / interval))
        self.orphan_age_ms = int(1000 * max(2 * interval, min(10.0, stalled_timeout / 3)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pykue-upkeep", daemon=True)
        self.ticks = 0
        self._wall_minus_monotonic = time.time() - time.monotonic()
        self._cancels_pending: dict[tuple[int, str], int] = {}

    def start(self) -> None:
        self._tick_safely()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._tick_safely()

    def _tick_safely(self) -> None:
        try:
            self.tick()
        except redis.RedisError as error:
            log.warning("redis error during upkeep: %s", error)
            self._queue.report_error(error, logged=True)
        except Exception as error:  # upkeep must go on whatever one tick hit
            log.exception("upkeep tick failed")
            self._queue.report_error(error, logged=True)

    def tick(self) -> None:
        self.ticks += 1
        if supervisor_gone() and not self._stopping.is_set():
            log.warning("the supervisor process is gone: shutting down")
            self._stop_worker()
        reconcile = list(self._types) if (self.ticks - 1) % self.reconcile_every == 0 else []
        if reconcile or self._clock_stepped():
            self._measure_clock()  # clocks drift: the claim behind a BLPOP is timed by Redis's
            self._wall_minus_monotonic = time.time() - time.monotonic()
        tick = self._store.tick(
            now_ms(), 1000, self._worker_id, self.lease_ms, self.ticks % self.stalled_every == 0, reconcile
        )
        if tick.lease_lapsed:
            self._lease_lapsed()
        if tick.promoted:
            log.debug("promoted %d delayed jobs", tick.promoted)
        self._slots.set_paused(tick.paused)
        self._heartbeat(self.lease_ms)  # the worker's record (pykue/registry.py) lives as its lease
        for job_id, claim in tick.expired:
            self.fail_held_job(job_id, claim, TTL_MESSAGE, ttl=True)
        for job_id, claim in tick.stalled:
            self.fail_held_job(job_id, claim, STALLED_MESSAGE)
        for job_id, claim in tick.mine:
            self.release_orphan(job_id, claim)
        self.check_claims()
        self.stop_cancelled()
        fire_due(self._store)  # last: a schedule that cannot fire stops nothing else

    def _clock_stepped(self) -> bool:
        """This host's clock was set (NTP, by hand) since the offset to Redis's was measured."""
        return abs(time.time() - time.monotonic() - self._wall_minus_monotonic) > 0.02

    def release_orphan(self, job_id: int, claim: str) -> None:
        """A job claimed by this worker that it is not running: the claim's reply was lost
        (a connection dropped mid-call). Once the claim is old enough not to be in flight,
        give the job back without spending an attempt."""
        claimed_at = int(claim.rsplit("/", 1)[-1]) if claim.rsplit("/", 1)[-1].isdigit() else 0
        if self._slots.holds(job_id, claim) or now_ms() - claimed_at < self.orphan_age_ms:
            return
        line = "claimed by a worker that never received it (connection lost); requeued"
        if self._store.release_job(job_id, claim, now_ms(), line):
            log.warning("job %s: %s", job_id, line)

    def fail_held_job(self, job_id: int, claim: str, message: str, ttl: bool = False) -> None:
        """Fail (and retry if attempts remain) a job a pykue worker holds, fenced by its claim."""
        fields = self._store.job_fields(job_id)
        if fields.get("pykue_claim") != claim or fields.get("state") != "active":
            return
        job = Job.from_hash(self._queue, job_id, fields)
        job.claim = claim
        if self._store.fail_job(fail_args(self._queue, failure_text(job, message), ttl=ttl)):
            log.warning("job %s %s: %s", job_id, job.type, message)
        self._abandon(job_id, claim)

    def stop_cancelled(self) -> None:
        """Runs cancelled while this worker holds them (cancel_job.lua failed their jobs
        already): an async task is cancelled, a def task's next progress/log raises
        JobCancelled; their slots are freed now. A run claimed but not started yet is looked
        for again at the next few ticks."""
        wanted = self._store.take_cancel_requests(self._worker_id) | self._cancels_pending.keys()
        for job in self._slots.live_jobs() if wanted else ():
            if run_key(job) in wanted:
                wanted.discard(run_key(job))
                job.mark_cancelled(self._store.job_fields(job.id).get("error") or "Cancelled")
                log.info("job %s %s was cancelled: stopping it", job.id, job.type)
                self._abandon(*run_key(job))
        self._cancels_pending = {run: self._cancels_pending.get(run, CANCEL_TICKS) - 1 for run in wanted}
        self._cancels_pending = {run: n for run, n in self._cancels_pending.items() if n > 0}

    def check_claims(self) -> None:
        """Running jobs with a TTL can be failed by another worker's tick: stop waiting for them."""
        watched = [job for job in self._slots.live_jobs() if job.ttl()]
        if not watched:
            return
        keys = [run_key(job) for job in watched]
        for job, (job_id, claim), now_held in zip(watched, keys, self._store.claims([k[0] for k in keys])):
            if now_held != claim:
                log.warning("job %s %s was taken away (TTL exceeded elsewhere); abandoning it", job_id, job.type)
                self._abandon(job_id, claim)


def declare_task_settings(store: WorkerStore, tasks: Iterable[Task[Any]]) -> None:
    """What a starting worker's tasks declare for the whole fleet: their limits and schedules."""
    tasks = list(tasks)
    declare_limits(store, tasks)
    declare_schedules(store, tasks)
