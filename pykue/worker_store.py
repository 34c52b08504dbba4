"""What a worker reads and writes in Redis, bound to its queue's client, keys and scripts:
the worker's side of the store (``Store.for_worker()``), so that fetching, reporting and
upkeep need neither ``queue.client`` nor ``queue.keys`` nor ``queue.scripts``.

A worker's reports go out in flight on a connection of their own (``calls_in_flight()``):
``send_complete_jobs`` writes one call there, ``parse_completion`` reads its reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import redis

from .keys import Keys
from .replies import Claims, Completion, Tick, Woken, parse_completion
from .scripts import Scripts
from .transport.in_flight import CallsInFlight


class Failure(NamedTuple):
    """One failed attempt to store (fail_job.lua's arguments)."""

    job_id: int
    claim: str
    now: int
    error: str
    summary: str
    message_json: str
    retry_delay: int
    ttl: bool = False


class WorkerStore:
    def __init__(self, client: redis.Redis, keys: Keys, scripts: Scripts) -> None:
        self.client = client
        self.keys = keys
        self.scripts = scripts

    @property
    def pool(self) -> Any:
        """The client's connection pool (a worker checks its size and socket timeout)."""
        return self.client.connection_pool

    def calls_in_flight(self) -> CallsInFlight:
        """A connection of its own for calls in flight (``CallsInFlight.possible``: whether the
        pool can spare one)."""
        return CallsInFlight(self.client)

    # -- fetching -----------------------------------------------------------------------------

    def load_worker_scripts(self) -> None:
        self.scripts.load_worker_scripts(self.client)

    def claim_jobs(
        self, now: int, worker_id: str, wanted: dict[str, int], popped: int = 0, popped_type: str = ""
    ) -> Claims:
        return self.scripts.claim_jobs(self.client, now, worker_id, wanted, popped, popped_type)

    def wait_and_claim(
        self, job_types: Sequence[str], timeout: float, worker_id: str, clock_offset_ms: int, wanted: dict[str, int]
    ) -> Woken:
        """BLPOP on the types' wake-up tokens and the worker's wake key, with the claim behind
        it; ``Woken.popped_key`` is one of ``token_keys(job_types)`` or the wake key."""
        wake_key = self.keys.wake(worker_id)
        wait_keys = [*self.token_keys(job_types), wake_key]
        return self.scripts.wait_and_claim(
            self.client, wait_keys, timeout, worker_id, wake_key, clock_offset_ms, wanted
        )

    def token_keys(self, job_types: Sequence[str]) -> list[str]:
        return [self.keys.tokens(t) for t in job_types]

    def give_back_tokens(self, job_type: str, n: int) -> None:
        """Push ``n`` wake-up tokens of ``job_type`` back (a BLPOP took one too many)."""
        self.client.lpush(self.keys.tokens(job_type), *[1] * n)

    def wake(self, worker_id: str) -> None:
        """Interrupt the worker's BLPOP: two elements (the claim behind it stands aside on
        seeing the second), kept a minute at most should the worker be killed."""
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(self.keys.wake(worker_id), 1, 1)
        pipe.pexpire(self.keys.wake(worker_id), 60_000)
        pipe.execute()

    def renew_lease(self, worker_id: str, now: int, lease_ms: int) -> None:
        """Set the worker's lease for ``lease_ms`` more, as the upkeep tick does (one command:
        the claim scripts and other workers' upkeep read it)."""
        self.client.set(self.keys.worker_lease(worker_id), now, px=lease_ms)

    def forget_worker(self, worker_id: str) -> None:
        """Delete the worker's wake key, lease and record as it ends."""
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(self.keys.wake(worker_id), self.keys.worker_lease(worker_id), self.keys.worker_record(worker_id))
        pipe.zrem(self.keys.workers, worker_id)
        pipe.execute()

    def heartbeat(self, worker_id: str, lease_ms: int, record_json: str) -> int:
        """Write the worker's record (pykue/registry.py) to live as long as its lease."""
        return self.scripts.heartbeat_worker(self.client, worker_id, lease_ms, record_json)

    def ping(self) -> None:
        self.client.ping()

    def redis_time(self) -> tuple[int, int]:
        """Redis's clock: (seconds, microseconds)."""
        return self.client.time()

    # -- reporting ----------------------------------------------------------------------------

    def complete_jobs(
        self,
        now: int,
        done: list[tuple[int, str, str]],
        worker_id: str = "",
        refill: dict[str, int] | None = None,
        claimed_at: int | None = None,
    ) -> Completion:
        return self.scripts.complete_jobs(self.client, now, done, worker_id, refill, claimed_at)

    def send_complete_jobs(
        self,
        conn: Any,
        now: int,
        done: list[tuple[int, str, str]],
        worker_id: str,
        refill: dict[str, int],
        claimed_at: int,
        check_health: bool = True,
    ) -> None:
        """Sent on a connection of ``calls_in_flight()``; its reply goes through ``parse_completion``."""
        self.scripts.send_complete_jobs(conn, now, done, worker_id, refill, claimed_at, check_health)

    def complete_and_fail(
        self, now: int, done: list[tuple[int, str, str]], failures: list[Failure]
    ) -> tuple[Completion, list[int]]:
        """Successes (no refill) and failures in one round trip (a redis-py pipeline);
        fail_job's reply per failure: attempts remaining + 1, or 0 (ReplyCode.CLAIM_LOST)."""
        pipe = self.client.pipeline(transaction=False)
        if done:
            self.scripts.queue_complete_jobs(pipe, now, done)
        for f in failures:
            self.scripts.queue_fail_job(
                pipe, f.job_id, f.claim, f.now, f.error, f.summary, f.message_json, f.retry_delay, f.ttl
            )
        replies = self.scripts.execute(pipe)
        completion = parse_completion(replies[0]) if done else Completion([], [])
        return completion, [int(r) for r in (replies[1:] if done else replies)]

    def fail_job(self, failure: Failure) -> int:
        return self.complete_and_fail(0, [], [failure])[1][0]

    def release_job(self, job_id: int, claim: str, now: int, line: str) -> bool:
        return self.scripts.release_job(self.client, job_id, claim, now, line)

    # -- upkeep -------------------------------------------------------------------------------

    def tick(
        self, now: int, limit: int, worker_id: str, lease_ms: int, find_stalled: bool, reconcile_types: list[str]
    ) -> Tick:
        return self.scripts.tick(self.client, now, limit, worker_id, lease_ms, find_stalled, reconcile_types)

    def job_fields(self, job_id: int) -> dict[str, str]:
        return cast("dict[str, str]", self.client.hgetall(self.keys.job(job_id)))

    def take_cancel_requests(self, worker_id: str) -> set[tuple[int, str]]:
        """The runs, (job id, claim), cancelled since the last call (cancel_job.lua adds them),
        popped at once: SPOP is one command."""
        popped = cast("list[str]", self.client.spop(self.keys.cancel_requests(worker_id), 1000))
        runs = (entry.split(" ", 1) for entry in popped or ())
        return {(int(job_id), claim) for job_id, claim in runs}

    def claims(self, job_ids: Sequence[int]) -> list[str | None]:
        """Each job's current claim token (None: none), in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(self.keys.job(job_id), "pykue_claim")
        return cast("list[str | None]", pipe.execute())
