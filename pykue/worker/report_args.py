"""Outcomes as the arguments of the scripts that store them: the one place they are built,
whether a batch goes out in flight, synchronously or as a fail_job of the upkeep's."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from ..backoff import decode_backoff, kue_delay, strategy_delay
from ..job_hash import dumps
from ..worker_store import Failure
from .slots import run_key

if TYPE_CHECKING:
    from ..job import Job
    from ..queue import Queue
    from .execution import Outcome

log = logging.getLogger("pykue.worker")


class ReportArgs(NamedTuple):
    """A batch of outcomes as script arguments: one complete_jobs call for the successes
    (``done``, as of ``now``, claiming ``refill`` for ``refill_for`` as of ``claimed_at``) and
    one fail_job call per failure."""

    outcomes: list[Outcome]
    now: int
    done: list[tuple[int, str, str]]
    refill_for: str  # the worker id, or "" when nothing is to be claimed
    refill: dict[str, int]
    claimed_at: int
    failed: list[Failure]

    def merge(self, done_replies: list[Any], fail_replies: list[Any]) -> list[Any]:
        """The reply of each outcome, in the batch's order."""
        if not self.failed:
            return done_replies
        completed, failed = iter(done_replies), iter(fail_replies)
        return [next(completed) if o.ok else next(failed) for o in self.outcomes]


def report_args(
    queue: Queue,
    outcomes: list[Outcome],
    worker_id: str = "",
    refill: dict[str, int] | None = None,
    claimed_at: int = 0,
) -> ReportArgs:
    refill = refill or {}
    return ReportArgs(
        outcomes,
        int(max(o.finished_at for o in outcomes) * 1000),
        cast("list[tuple[int, str, str]]", [(o.job.id, o.job.claim, o.result_json) for o in outcomes if o.ok]),
        worker_id if refill else "",
        refill,
        claimed_at,
        [fail_args(queue, o) for o in outcomes if not o.ok],
    )


def fail_args(queue: Queue, outcome: Outcome, ttl: bool = False) -> Failure:
    job = outcome.job
    return Failure(
        *run_key(job),
        int(outcome.finished_at * 1000),
        outcome.error,
        outcome.summary,
        dumps(outcome.message),
        retry_delay(queue, job),
        ttl,
    )


def retry_delay(queue: Queue, job: Job) -> int:
    """The backoff delay before the next attempt, in ms (0: retry at once, or no retry)."""
    made, _, maximum = job.attempts()
    if made + 1 >= maximum:
        return 0  # this failure is the last: no strategy is asked for a delay nobody waits
    attempts = made + 1
    stored = decode_backoff(job.stored_field("backoff"))
    task = queue.tasks.get(job.type)  # the tick hands this worker jobs of any type
    strategy = task.backoff_strategy if task is not None and stored is None else None  # a job's own wins
    try:
        if strategy is not None:
            return strategy_delay(strategy, attempts, job.delay()) or 0
        return kue_delay(stored, attempts, job.delay()) or 0
    except Exception as error:  # a broken backoff must not lose the job: retry at once
        log.warning("backoff of job %s failed (%s); retrying without delay", job.id, error)
        return 0
