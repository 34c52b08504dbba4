"""The worker: fetch, run, report, and keep up.

``Worker`` puts the parts together and runs them on three threads: the fetch loop
(fetch.py) claims jobs into the slots (slots.py), the dispatcher (dispatch.py) starts them
on the executor (execution.py), the reporter (report.py) stores their outcomes and frees
their slots, and the upkeep (upkeep.py) ticks. Each part sees the others only through the
few callables it is given; all Redis calls go through the queue's worker store
(pykue/worker_store.py), the reports in flight through report_line.py.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import redis

from .. import __version__
from ..exceptions import ConfigurationError, TaskNotFoundError
from ..registry import RunningJob, record_json
from .dispatch import Dispatcher
from .event_loop import loop_factory
from .execution import Executor, failure_text
from .fetch import Fetcher, WakeUp
from .inbox import Inbox
from .lease import Lease
from .report import Outcomes, Reporter
from .report_line import ReportLine
from .slots import RunKey, Running, Slots, run_key
from .upkeep import Upkeep, declare_task_settings

if TYPE_CHECKING:
    from ..queue import Queue
    from ..task import Task

log = logging.getLogger("pykue.worker")


class Worker:
    """Processes the jobs of a Queue's tasks. ``run()`` blocks until stopped (or, in burst
    mode, until nothing is left to take)."""

    def __init__(
        self,
        queue: Queue,
        types: Iterable[str] | None = None,
        *,
        concurrency: int | None = None,
        burst: bool = False,
        shutdown_timeout: float = 10.0,
        promote_interval: float = 1.0,
        stalled_timeout: float = 30.0,
        block_timeout: float = 2.0,
        claim_batch: int = 100,
        event_loop: str = "auto",
    ) -> None:
        self.queue = queue
        new_loop = loop_factory(event_loop)  # first: a bad name changes nothing
        self._store = queue.store.for_worker()
        _check_pool(self._store.pool)
        self.tasks = _select_tasks(queue, types)
        self.limits = {t: concurrency or task.concurrency for t, task in self.tasks.items()}
        self.burst = burst
        self.shutdown_timeout = shutdown_timeout
        socket_timeout = self._store.pool.connection_kwargs.get("socket_timeout")
        # a BLPOP must return before the client's socket timeout would call it an error
        self.block_timeout = min(block_timeout, socket_timeout / 2) if socket_timeout else block_timeout
        self.claim_batch = claim_batch
        self.id = f"pykue:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stopping = threading.Event()
        self._finished = threading.Event()
        self._wake_up = WakeUp(queue, self._store, self.id)
        self.lease = Lease(self._store, self.id, stalled_timeout)
        self.slots = Slots(self.limits, claim_batch, self._stopping, self._wake_up.push)
        self._outcomes: Outcomes = Inbox()
        sync_slots = sum(n for t, n in self.limits.items() if not self.tasks[t].is_async)
        self.executor = Executor(sync_slots + 4, self._outcomes.put, new_loop=new_loop)
        dispatcher = Dispatcher(queue, self.tasks, self.id, self.slots, self.executor.submit, self._outcomes.put)
        self.fetcher = Fetcher(
            queue,
            self._store,
            self.slots,
            dispatcher.dispatch,
            self.id,
            self._stopping,
            regain_lease=self.lease.regain,
            burst=burst,
            block_timeout=self.block_timeout,
        )
        line = ReportLine(self._store)
        self.reporter = Reporter(
            queue, self._store, line, self.slots, self._outcomes, self.id, self.fetcher.take, self.lease.regain
        )
        self.executor.report_here = self.reporter.report_here
        self.upkeep = Upkeep(
            queue,
            self._store,
            self.slots,
            self.id,
            list(self.tasks),
            self._stopping,
            stop=self.stop,
            measure_clock=self.fetcher.measure_clock,
            abandon=self._abandon,
            lease_lapsed=self.lease.lapsed,
            interval=promote_interval,
            stalled_timeout=stalled_timeout,
            heartbeat=self._heartbeat,
        )
        self.started_at = int(time.time() * 1000)

    # -- lifecycle ------------------------------------------------------------------------------

    def run(self) -> None:
        if not self.tasks:
            raise TaskNotFoundError("the queue has no tasks to process")
        self.queue.local_workers.append(self)
        try:
            self._prepare()
            self.reporter.start()
            self.upkeep.start()
            log.info("worker %s processing %s", self.id, ", ".join(f"{t}×{n}" for t, n in self.limits.items()))
            self.fetcher.run()
        finally:
            self._drain()
            self.reporter.finish()
            self.upkeep.stop()
            self._cleanup()
            self.queue.local_workers.remove(self)
            self._finished.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking jobs; running ones get ``timeout`` seconds, then fail with ``Shutdown``."""
        if timeout is not None:
            self.shutdown_timeout = timeout
        self._stopping.set()
        self.slots.wake()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until ``run()`` has returned; False on timeout."""
        return self._finished.wait(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _prepare(self) -> None:
        """Take the lease before anything claims (a claim without it is refused), and load the
        scripts the worker calls (the claim behind each BLPOP, its reports)."""
        try:
            self.lease.renew()
            self._store.load_worker_scripts()
            declare_task_settings(self._store, self.tasks.values())
        except redis.RedisError as error:  # the fetch loop meets the outage and retries
            self.queue.report_error(error)

    def _heartbeat(self, lease_ms: int) -> None:
        """Tell the fleet (``queue.workers()``) what this worker is and runs now."""
        view = self.slots.snapshot()
        running = [RunningJob(r.job.id, r.job.type, r.job.started_at) for r in view.running.values() if not r.abandoned]
        record = record_json(
            self.id,
            pid=os.getpid(),
            started_at=self.started_at,
            version=__version__,
            types=self.limits,
            paused=view.paused | view.paused_here,
            running=running,
            processed=self.processed,
            failed=self.failed,
            heartbeat_every=self.upkeep.interval,
        )
        self._store.heartbeat(self.id, lease_ms, record)

    def _drain(self) -> None:
        for job in self.slots.wait_idle(time.monotonic() + self.shutdown_timeout):
            log.warning("job %s %s still running at shutdown: failing it with Shutdown", job.id, job.type)
            self._outcomes.put(failure_text(job, "Shutdown"))  # first: a cancelled async task reports too
            self._abandon(*run_key(job))

    def _abandon(self, job_id: int, claim: str) -> None:
        """Give up on the run of a job (TTL, lost claim, shutdown): its slot is freed, an async
        task cancelled; a thread cannot be stopped, so another may run while it is stuck."""
        run = self.slots.abandon(job_id, claim)
        if run is None:
            return
        self.executor.cancel(run.job)
        if not run.task.is_async:
            self.executor.detach(run.job)

    def _cleanup(self) -> None:
        self.executor.shutdown()
        self._wake_up.close()
        try:
            self._store.forget_worker(self.id)
        except redis.RedisError as error:
            self.queue.report_error(error)

    # -- reading --------------------------------------------------------------------------------

    @property
    def processed(self) -> int:
        return self.reporter.processed

    @property
    def failed(self) -> int:
        return self.reporter.failed

    @property
    def running(self) -> dict[RunKey, Running]:
        """A copy of the runs, by (job id, claim)."""
        return self.slots.snapshot().running

    @property
    def busy(self) -> Counter[str]:
        return self.slots.snapshot().busy

    @property
    def paused(self) -> set[str]:
        """The types the queue has paused (Kue's pause)."""
        return self.slots.snapshot().paused

    @property
    def locally_paused(self) -> set[str]:
        """The types a job's ``ctx.pause`` paused in this process."""
        return self.slots.snapshot().paused_here


def _check_pool(pool: Any) -> None:
    """The fetch loop's BLPOP, the reporter's calls and the upkeep's ticks each hold a
    connection at once. A blocking pool makes the others wait their turn (but its only
    connection, held by the BLPOP, would starve them); a plain pool refuses the third."""
    size = getattr(pool, "max_connections", None)
    least = 2 if isinstance(pool, redis.BlockingConnectionPool) else 3
    if size is not None and size < least:
        raise ConfigurationError(
            f"a worker needs a Redis connection pool of at least {least} connections (this "
            f"{type(pool).__name__} has max_connections={size}): its job wait (BLPOP), its reports "
            f"and its upkeep use one each at the same time"
        )


def _select_tasks(queue: Queue, types: Iterable[str] | None) -> dict[str, Task[Any]]:
    if types is None:
        return dict(queue.tasks)
    selected = {}
    for job_type in types:
        if job_type not in queue.tasks:
            raise TaskNotFoundError(f"no task registered for type {job_type!r}; known: {sorted(queue.tasks)}")
        selected[job_type] = queue.tasks[job_type]
    return selected
