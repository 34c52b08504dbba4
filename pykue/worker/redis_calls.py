"""Every Redis call a worker makes, one method each, except the reporter's calls in flight on
its held connection (report_line.py): the layer beneath the worker changes here alone.

Script methods are looked up on ``queue.scripts`` at each call, never bound ahead: tests
wrap them on a live queue.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..job import now_ms
from ..scripts import Claimed, Completion, Tick, Woken, parse_completion

if TYPE_CHECKING:
    from ..queue import Queue
    from .report_args import FailArgs, ReportArgs

log = logging.getLogger("pykue.worker")


class WorkerCalls:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    # -- fetching -------------------------------------------------------------------------------

    def load_claim_woken(self) -> None:
        self.queue.scripts.load_claim_woken(self.queue.client)

    def claim(self, worker_id: str, wanted: dict[str, int], popped: int = 0, popped_type: str = "") -> list[Claimed]:
        return self.queue.scripts.claim_jobs(self.queue.client, now_ms(), worker_id, wanted, popped, popped_type)

    def wait_and_claim(self, wait_keys: Sequence[str], timeout: float, worker_id: str, wake_key: str,
                       clock_offset_ms: int, wanted: dict[str, int]) -> Woken:
        return self.queue.scripts.wait_and_claim(self.queue.client, wait_keys, timeout, worker_id, wake_key,
                                                 clock_offset_ms, wanted)

    def release(self, job_id: int, claim: str, line: str) -> bool:
        """Requeue a claimed job without spending an attempt, logging ``line`` on it."""
        return self.queue.scripts.release_job(self.queue.client, job_id, claim, now_ms(), line)

    def return_tokens(self, job_type: str, count: int) -> None:
        self.queue.client.lpush(self.queue.keys.tokens(job_type), *[1] * count)

    def push_wake(self, wake_key: str) -> None:
        """Two: BLPOP takes one, and the claim behind it stands aside on seeing the other."""
        pipe = self.queue.client.pipeline(transaction=False)
        pipe.lpush(wake_key, 1, 1)
        pipe.pexpire(wake_key, 60_000)  # not left for ever by a killed worker
        pipe.execute()

    def server_time(self) -> tuple[int, int]:
        seconds, micros = self.queue.client.time()
        return seconds, micros

    def forget_worker(self, *keys: str) -> None:
        self.queue.client.delete(*keys)

    # -- reporting ------------------------------------------------------------------------------

    def store_outcomes(self, args: ReportArgs) -> tuple[list[Any], list[Claimed]]:
        """One round trip: a single complete_jobs call for the successes (claiming the refill),
        fail_job per failure. Returns the reply per outcome and the jobs claimed."""
        scripts, client = self.queue.scripts, self.queue.client
        if not args.failed:
            completion = scripts.complete_jobs(client, args.now, args.done, args.refill_for, args.refill,
                                               args.claimed_at or None)
            return completion.replies, completion.claimed
        pipe = client.pipeline(transaction=False)
        if args.done:
            scripts.queue_complete_jobs(pipe, args.now, args.done)
        for failed in args.failed:
            scripts.queue_fail_job(pipe, *failed)
        replies = scripts.execute(pipe)
        completion = parse_completion(replies[0]) if args.done else Completion([], [])
        return args.merge(completion.replies, replies[1:] if args.done else replies), []

    def fail(self, args: FailArgs) -> Any:
        """One fail_job call; its reply."""
        pipe = self.queue.client.pipeline(transaction=False)
        self.queue.scripts.queue_fail_job(pipe, *args)
        (reply,) = self.queue.scripts.execute(pipe)
        return reply

    # -- upkeep ---------------------------------------------------------------------------------

    def tick(self, worker_id: str, lease_ms: int, find_stalled: bool, reconcile_types: list[str]) -> Tick:
        return self.queue.scripts.tick(self.queue.client, now_ms(), 1000, worker_id,
                                       self.queue.keys.worker_lease(worker_id), lease_ms, find_stalled,
                                       reconcile_types)

    def job_fields(self, job_id: int) -> dict[str, str]:
        return cast("dict[str, str]", self.queue.client.hgetall(self.queue.keys.job(job_id)))

    def claims(self, job_ids: list[int]) -> list[str | None]:
        """The claim each job's hash holds now."""
        pipe = self.queue.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(self.queue.keys.job(job_id), "pykue_claim")
        claims: list[str | None] = pipe.execute()
        return claims


def backoff_seconds(attempt: int) -> float:
    return min(0.1 * 2.0 ** min(attempt, 6), 5.0)


def pause_after_error(queue: Queue, doing: str, error: BaseException, attempt: int,
                      sleep: Callable[[float], Any]) -> None:
    """Log and report a Redis error, then back off (longer with each attempt) with ``sleep``."""
    delay = backoff_seconds(attempt)
    log.warning("redis error while %s (%s); retrying in %.1fs", doing, error, delay)
    queue.report_error(error, logged=True)
    sleep(delay)

