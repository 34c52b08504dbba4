"""``--pin-cpu``: keep a worker process on one CPU.

Python runs one thread at a time. When a thread blocks on I/O the GIL passes to another,
and on a virtual machine waking a thread on another CPU costs far more than on the same
one: a worker of ten threads with I/O-light tasks spent most of its CPU on those hand-offs.
Pinned, the same worker used about half the CPU per job.
"""
from __future__ import annotations

import os

SLOT_ENV = "PYKUE_WORKER_SLOT"


def supported() -> bool:
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def pin_to_cpu(slot: int | None = None) -> int:
    """Pin every thread of this process to one CPU: the slot-th (wrapping) of those it may use.
    The slot is this process's index under a supervisor, else 0. Returns the CPU."""
    if slot is None:
        slot = int(os.environ.get(SLOT_ENV, "0") or 0)
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[slot % len(allowed)]
    for tid in _threads():
        try:
            os.sched_setaffinity(tid, {cpu})
        except ProcessLookupError:  # a thread that just ended
            pass
    return cpu


def _threads() -> list[int]:
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]
