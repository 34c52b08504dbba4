"""A worker's lease (keys.py's ``worker_lease``): while its key lives, other workers' upkeep
leaves the jobs it claimed alone, and the claim scripts claim for it; without it they claim
nothing (``ReplyCode.NO_LEASE``). The upkeep tick renews it every interval. A process frozen
longer than the lease (SIGSTOP, a long GC pause, a laptop asleep) loses it, and other workers
requeue its jobs: the first thread that hears of it (a refused claim) renews it at once, then
claims again; the jobs it still runs whose claims nobody took complete as usual."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from ..job import now_ms

if TYPE_CHECKING:
    from ..worker_store import WorkerStore

log = logging.getLogger("pykue.worker")


def lease_ms(stalled_timeout: float) -> int:
    """The lease is shorter than the stalled timeout, so a worker is called stalled only once
    its lease has been gone a while."""
    return int(stalled_timeout * 800)


class Lease:
    def __init__(self, store: WorkerStore, worker_id: str, stalled_timeout: float) -> None:
        self._store = store
        self._worker_id = worker_id
        self.ms = lease_ms(stalled_timeout)
        self._lock = threading.Lock()
        self._regained_at = -float("inf")

    def renew(self) -> None:
        self._store.renew_lease(self._worker_id, now_ms(), self.ms)

    def regain(self) -> None:
        """A claim was refused for want of the lease: renew it now (the fetch loop and the
        reporter may both hear of it; one line is logged per lease period)."""
        self.renew()
        with self._lock:
            quiet = time.monotonic() - self._regained_at < self.ms / 1000
            self._regained_at = time.monotonic()
        if not quiet:
            log.warning(
                "worker %s lost its lease (the process was paused longer than %.1f s, or Redis was "
                "down when it started): renewed it; jobs recovered from it meanwhile run again",
                self._worker_id,
                self.ms / 1000,
            )
