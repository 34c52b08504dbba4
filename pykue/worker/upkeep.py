"""A worker's periodic upkeep thread around the ``tick`` script (see scripts/tick.lua):
promote delayed jobs, fail TTL-expired and stalled jobs, renew the lease, follow pauses,
and notice when another process took one of our running jobs away."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import redis

from ..job import Job, dumps, now_ms
from .supervisor import supervisor_gone

if TYPE_CHECKING:
    from .runtime import Worker

log = logging.getLogger("pykue.worker")
TTL_MESSAGE = "TTL exceeded"
STALLED_MESSAGE = "Stalled: the worker running this job stopped (no heartbeat)"


class Upkeep:
    def __init__(self, worker: "Worker", interval: float, stalled_timeout: float) -> None:
        if stalled_timeout < 2 * interval:
            raise ValueError(f"stalled_timeout ({stalled_timeout}s) must be at least twice the "
                             f"promotion interval ({interval}s)")
        self.worker = worker
        self.interval = interval
        self.lease_ms = int(stalled_timeout * 800)
        self.stalled_every = max(1, int(stalled_timeout * 0.15 / interval))
        self.reconcile_every = max(1, int(30 / interval))
        self.orphan_age_ms = int(1000 * max(2 * interval, min(10.0, stalled_timeout / 3)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pykue-upkeep", daemon=True)
        self.ticks = 0
        self._wall_minus_monotonic = time.time() - time.monotonic()

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
            self.worker.queue.report_error(error, logged=True)
        except Exception as error:  # upkeep must go on whatever one tick hit
            log.exception("upkeep tick failed")
            self.worker.queue.report_error(error, logged=True)

    def tick(self) -> None:
        worker, queue = self.worker, self.worker.queue
        self.ticks += 1
        if supervisor_gone() and not worker.stopping:
            log.warning("the supervisor process is gone: shutting down")
            worker.stop()
        reconcile = list(worker.tasks) if (self.ticks - 1) % self.reconcile_every == 0 else []
        if reconcile or self._clock_stepped():
            worker.measure_clock()  # clocks drift: the claim behind a BLPOP is timed by Redis's
            self._wall_minus_monotonic = time.time() - time.monotonic()
        tick = queue.scripts.tick(
            queue.client, now_ms(), 1000, worker.id, queue.keys.worker_lease(worker.id), self.lease_ms,
            self.ticks % self.stalled_every == 0, reconcile)
        if tick.promoted:
            log.debug("promoted %d delayed jobs", tick.promoted)
        worker.set_paused(tick.paused)
        for job_id, claim in tick.expired:
            self.fail_held_job(job_id, claim, TTL_MESSAGE, ttl=True)
        for job_id, claim in tick.stalled:
            self.fail_held_job(job_id, claim, STALLED_MESSAGE)
        for job_id, claim in tick.mine:
            self.release_orphan(job_id, claim)
        self.check_claims()

    def _clock_stepped(self) -> bool:
        """This host's clock was set (NTP, by hand) since the offset to Redis's was measured."""
        return abs(time.time() - time.monotonic() - self._wall_minus_monotonic) > 0.02

    def release_orphan(self, job_id: int, claim: str) -> None:
        """A job claimed by this worker that it is not running: the claim's reply was lost
        (a connection dropped mid-call). Once the claim is old enough not to be in flight,
        give the job back without spending an attempt."""
        claimed_at = int(claim.rsplit("/", 1)[-1]) if claim.rsplit("/", 1)[-1].isdigit() else 0
        if (job_id, claim) in self.worker.running or now_ms() - claimed_at < self.orphan_age_ms:
            return
        line = "claimed by a worker that never received it (connection lost); requeued"
        if self.worker.queue.scripts.release_job(self.worker.queue.client, job_id, claim, now_ms(), line):
            log.warning("job %s: %s", job_id, line)

    def fail_held_job(self, job_id: int, claim: str, message: str, ttl: bool = False) -> None:
        """Fail (and retry if attempts remain) a job a pykue worker holds, fenced by its claim."""
        queue = self.worker.queue
        fields = queue.client.hgetall(queue.keys.job(job_id))
        if fields.get("pykue_claim") != claim or fields.get("state") != "active":
            return
        job = Job.from_hash(queue, job_id, fields)
        job.claim = claim
        pipe = queue.client.pipeline(transaction=False)
        queue.scripts.queue_fail_job(pipe, job_id, claim, now_ms(), message, message, dumps(message),
                                     self.worker.retry_delay(job), ttl=ttl)
        (reply,) = queue.scripts.execute(pipe)
        if reply:
            log.warning("job %s %s: %s", job_id, job.type, message)
        self.worker.abandon(job_id, claim)

    def check_claims(self) -> None:
        """Running jobs with a TTL can be failed by another worker's tick: stop waiting for them."""
        worker, queue = self.worker, self.worker.queue
        watched = [r.job for r in list(worker.running.values()) if r.job.ttl() and not r.abandoned]
        if not watched:
            return
        pipe = queue.client.pipeline(transaction=False)
        for job in watched:
            pipe.hget(queue.keys.job(job.id), "pykue_claim")
        for job, claim in zip(watched, pipe.execute()):
            if claim != job.claim:
                log.warning("job %s %s was taken away (TTL exceeded elsewhere); abandoning it", job.id, job.type)
                worker.abandon(job.id, job.claim)


