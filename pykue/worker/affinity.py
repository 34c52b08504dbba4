"""Pinning: keep a worker process on one CPU, its threads under SCHED_BATCH. ``pykue worker``
does it by default where Linux allows (``--no-pin-cpu`` turns it off); ``--pin-cpu`` asks for it
outright.

Python runs one thread at a time. When a thread blocks on I/O the GIL passes to another,
and on a virtual machine waking a thread on another CPU costs far more than on the same
one: a worker of ten threads with I/O-light tasks spent most of its CPU on those hand-offs.
Pinned, the same worker used about half the CPU per job.

On one CPU a second cost appears: a task thread woken by its Redis reply preempts the thread
holding the GIL, only to block on the GIL at once and hand the CPU back, two context switches
for nothing. SCHED_BATCH (a normal, unprivileged Linux policy) turns off that wake-up
preemption, so the woken thread runs when the GIL holder next blocks.

One CPU costs nothing to a process that runs Python, which uses one CPU at a time anyway.
It costs when the CPU is wanted twice over: tasks whose C code runs threads in parallel
(numpy, compression), or another busy process on the same CPU. Either way that CPU is then
busy all the time while another has room: by default (``watch=True``) a thread checks that
every second (/proc/stat), and after three seconds in a row the process is unpinned for good
and runs where the kernel puts it, as it would without pinning. (A worker waiting on Redis
leaves its CPU idle part of the time: a busy queue alone does not unpin it.)
"""

from __future__ import annotations

import logging
import os
import threading
import time

SLOT_ENV = "PYKUE_WORKER_SLOT"
log = logging.getLogger("pykue.worker")
#: Unpin once the pinned CPU was idle at most this share of the time, while another had at
#: least ROOM_IDLE ...
SATURATED_IDLE = 0.05
ROOM_IDLE = 0.3
#: ... for this many one-second checks in a row.
CONTESTED_CHECKS = 3


def supported() -> bool:
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def pin_to_cpu(slot: int | None = None, watch: bool = False) -> int:
    """Pin every thread of this process to one CPU: the slot-th (wrapping) of those it may use,
    and put them under SCHED_BATCH where the platform has it (threads started later inherit
    both). The slot is this process's index under a supervisor; without one, the CPU the
    process runs on with ``watch`` (two workers started apart then spread as the kernel placed
    them), else the first. ``watch``: unpin once the CPU is contested (see above). Returns
    the CPU."""
    allowed = sorted(os.sched_getaffinity(0))
    supervised = os.environ.get(SLOT_ENV, "")
    if slot is None and supervised:
        slot = int(supervised)
    if slot is not None:
        cpu = allowed[slot % len(allowed)]
    else:
        here = _current_cpu() if watch else None
        cpu = here if here in allowed else allowed[0]
    _set_all({cpu}, batch=True)
    if watch and len(allowed) > 1:
        threading.Thread(target=_watch, args=(cpu, set(allowed)), name="pykue-pin-watch", daemon=True).start()
    return cpu


def _set_all(cpus: set[int], batch: bool = False) -> None:
    for tid in _threads():
        try:
            os.sched_setaffinity(tid, cpus)
            if batch:
                _batch(tid)
        except ProcessLookupError:  # a thread that just ended
            pass


def _watch(cpu: int, allowed: set[int], interval: float = 1.0) -> None:
    """Unpin once the process's CPU stays saturated while another it may use has room."""
    strikes, last = 0, _cpu_times()
    while True:
        time.sleep(interval)
        now = _cpu_times()
        room = contested(cpu, {c: _idle_share(last.get(c), now.get(c)) for c in allowed})
        last = now
        strikes = strikes + 1 if room is not None else 0
        if room is not None and strikes >= CONTESTED_CHECKS:
            _set_all(allowed)
            log.info(
                "unpinned from CPU %d: it stayed busy while another had %.0f%% idle (tasks running "
                "threads in parallel, or another busy process on that CPU)",
                cpu,
                room * 100,
            )
            return


def contested(cpu: int, idle: dict[int, float]) -> float | None:
    """Whether ``cpu`` was saturated while another had room, given each CPU's idle share over
    the last check: the most idle share among the others if so, else None."""
    others = max((share for c, share in idle.items() if c != cpu), default=0.0)
    if idle.get(cpu, 1.0) <= SATURATED_IDLE and others >= ROOM_IDLE:
        return others
    return None


def _cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (idle ticks, all ticks), from /proc/stat."""
    out = {}
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                if line.startswith("cpu") and line[3:4].isdigit():
                    name, *ticks = line.split()
                    values = [int(t) for t in ticks[:8]]
                    out[int(name[3:])] = (values[3] + values[4], sum(values))
    except (OSError, ValueError):
        pass
    return out


def _idle_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float:
    if before is None or after is None or after[1] <= before[1]:
        return 1.0  # unknown: never a reason to unpin
    return (after[0] - before[0]) / (after[1] - before[1])


def _current_cpu() -> int | None:
    try:
        with open("/proc/self/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return None


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
