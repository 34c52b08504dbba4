"""A worker's lease (keys.py's ``worker_lease``): while its key lives, other workers' upkeep
leaves the jobs it claimed alone, and the claim scripts claim for it; without it they claim
nothing (``ReplyCode.NO_LEASE``). The upkeep tick renews it every interval. A process frozen
longer than the lease (SIGSTOP, a long GC pause, a laptop asleep) loses it, and other workers
requeue its jobs: the first thread that hears of it (a refused claim) renews it at once, then
claims again; the jobs it still runs whose claims nobody took complete as usual. No claim may
be refused at all (the upkeep's renewal can reach Redis first), so the tick also says when it
found the key missing: either way the operator reads one line."""

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
        self._reported_at = -float("inf")

    def renew(self) -> None:
        self._store.renew_lease(self._worker_id, now_ms(), self.ms)

    def regain(self) -> None:
        """A claim was refused for want of the lease: renew it now, and say it had lapsed."""
        self.renew()
        self.lapsed()

    def lapsed(self) -> None:
        """Tell the operator the lease had lapsed (it is renewed by now). The fetch loop, the
        reporter and the upkeep tick may all learn of the same lapse, in any order: one line
        is logged per lease period."""
        with self._lock:
            quiet = time.monotonic() - self._reported_at < self.ms / 1000
            self._reported_at = time.monotonic()
        if not quiet:
            log.warning(
                "worker %s lost its lease (the process was paused longer than %.1f s, or Redis was "
                "down when it started): renewed it; jobs recovered from it meanwhile run again",
                self._worker_id,
                self.ms / 1000,
            )
