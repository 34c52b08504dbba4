"""``--pin-cpu``: keep a worker process on one CPU, its threads under SCHED_BATCH.

Python runs one thread at a time. When a thread blocks on I/O the GIL passes to another,
and on a virtual machine waking a thread on another CPU costs far more than on the same
one: a worker of ten threads with I/O-light tasks spent most of its CPU on those hand-offs.
Pinned, the same worker used about half the CPU per job.

On one CPU a second cost appears: a task thread woken by its Redis reply preempts the thread
holding the GIL, only to block on the GIL at once and hand the CPU back, two context switches
for nothing. SCHED_BATCH (a normal, unprivileged Linux policy) turns off that wake-up
preemption, so the woken thread runs when the GIL holder next blocks.
"""

from __future__ import annotations

import os

SLOT_ENV = "PYKUE_WORKER_SLOT"


def supported() -> bool:
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def pin_to_cpu(slot: int | None = None) -> int:
    """Pin every thread of this process to one CPU: the slot-th (wrapping) of those it may use,
    and put them under SCHED_BATCH where the platform has it (threads started later inherit
    both). The slot is this process's index under a supervisor, else 0. Returns the CPU."""
    if slot is None:
        slot = int(os.environ.get(SLOT_ENV, "0") or 0)
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[slot % len(allowed)]
    for tid in _threads():
        try:
            os.sched_setaffinity(tid, {cpu})
            _batch(tid)
        except ProcessLookupError:  # a thread that just ended
            pass
    return cpu


def _batch(tid: int) -> None:
    if not hasattr(os, "SCHED_BATCH"):
        return
    try:
        os.sched_setscheduler(tid, os.SCHED_BATCH, os.sched_param(0))
    except PermissionError:  # a seccomp or container policy may forbid it: pinning still helps
        pass


def _threads() -> list[int]:
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]
