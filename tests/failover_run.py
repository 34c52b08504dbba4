"""A failover in the middle of a job run: what the failover tests measure.

A producer saves ``total`` jobs one by one (each carries its number ``n``) while two worker
processes work them; after ``fail_after`` saves a thread fails the master over. A save that
raised is retried as a new job. At the end each acknowledged job (a save that returned) must
be complete with its own ``n``: one that is missing, holds another job's data (its id was
reused after a rollback) or never completed was lost. Jobs left ``active`` are stuck.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from pykue import Queue
from tests.helpers import wait_for


@dataclass
class RunResult:
    acknowledged: int = 0
    save_errors: int = 0
    lost: list[int] = field(default_factory=list)  # the n of each acknowledged job lost
    why: dict[str, int] = field(default_factory=dict)  # lost jobs by what their id holds now
    stuck_active: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.acknowledged} acknowledged, {len(self.lost)} lost {self.why}, {self.stuck_active} stuck active, "
            f"{self.save_errors} saves refused during the failover, {self.seconds:.1f} s"
        )


def failover_run(
    queue: Queue, fail: Callable[[], None], total: int = 2000, fail_after: int = 500, pace: float = 0.002
) -> RunResult:
    result = RunResult()
    acked: list[tuple[int, int]] = []  # (id, n): an id reused after a rollback appears twice
    failing = threading.Thread(target=fail, name="failover", daemon=True)
    started = time.monotonic()
    for n in range(total):
        if n == fail_after:
            failing.start()
        acked.append((_save(queue, n, result), n))
        time.sleep(pace)
    failing.join(60)
    assert not failing.is_alive(), "the failover did not finish within 60 s"
    result.acknowledged = len(acked)
    wait_for(lambda: _settled(queue, acked), 90, 0.5, "every acknowledged job to complete (or be lost)")
    result.lost = [n for job_id, n in acked if not _completed(queue, job_id, n)]
    for job_id, n in acked:
        if not _completed(queue, job_id, n):
            why = _why(queue.store.job_fields(job_id), n)
            result.why[why] = result.why.get(why, 0) + 1
    result.stuck_active = queue.active_count()
    result.seconds = time.monotonic() - started
    return result


def _save(queue: Queue, n: int, result: RunResult) -> int:
    deadline = time.monotonic() + 60
    while True:
        try:
            return queue.create("ha", {"n": n}).save().id
        except redis.RedisError:  # a DurabilityError too: not acknowledged, so try again
            result.save_errors += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _completed(queue: Queue, job_id: int, n: int) -> bool:
    fields = queue.store.job_fields(job_id)
    return fields.get("state") == "complete" and fields.get("data") == f'{{"n":{n}}}'


def _why(fields: dict[str, str], n: int) -> str:
    if not fields:
        return "missing"
    if fields.get("data") != f'{{"n":{n}}}':
        return "id reused"
    return str(fields.get("state"))


def _settled(queue: Queue, acked: list[tuple[int, int]]) -> bool:
    """Nothing left to work, for a few seconds (jobs of a lost claim come back as orphans)."""
    try:
        counts = queue.counts()
    except redis.RedisError:
        return False
    if counts["inactive"] or counts["active"] or counts["delayed"]:
        return False
    done = sum(1 for job_id, n in acked if _completed(queue, job_id, n))
    return done == len(acked) or _quiet_for(queue, 8.0)


_quiet_since: dict[int, tuple[float, int]] = {}


def _quiet_for(queue: Queue, seconds: float) -> bool:
    """The complete count has not moved for ``seconds``: what was lost stays lost."""
    complete = queue.complete_count()
    since, seen = _quiet_since.get(id(queue), (time.monotonic(), -1))
    if seen != complete:
        _quiet_since[id(queue)] = (time.monotonic(), complete)
        return False
    return time.monotonic() - since >= seconds
