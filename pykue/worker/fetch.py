"""The fetch loop: claim jobs for the types with free slots, several per script call, and
when there is nothing to take, block on Kue's wake-up token lists with the claim sent right
behind that BLPOP (``wait_and_claim``), so a woken worker claims in the same round trip."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis

from ..job_hash import now_ms
from ..replies import Claimed, ReplyCode, Woken
from .outage import backoff_seconds, pause_after_error

if TYPE_CHECKING:
    from ..queue import Queue
    from ..worker_store import WorkerStore
    from .slots import Slots

log = logging.getLogger("pykue.worker")
Dispatch = Callable[[list[Claimed], int | None], list[Claimed]]


class WakeUp:
    """Interrupts the fetch loop's BLPOP by pushing onto its wake-up key; once closed, never
    again (the key is deleted at the end and must not come back)."""

    def __init__(self, queue: Queue, store: WorkerStore, worker_id: str) -> None:
        self._worker_id = worker_id
        self._queue = queue
        self._store = store
        self._lock = threading.Lock()
        self._closed = False

    def push(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._store.wake(self._worker_id)
            except redis.RedisError as error:
                self._queue.report_error(error)

    def close(self) -> None:
        with self._lock:
            self._closed = True


class Fetcher:
    """Fetches for the worker ``worker_id`` into ``slots``; ``dispatch(claimed, claimed_at)``
    starts what it claims and returns what arrived unwanted; ``regain_lease()`` renews the
    worker's lease when a claim was refused for want of it. In ``burst`` mode it returns once
    nothing is running and nothing is left to take."""

    def __init__(
        self,
        queue: Queue,
        store: WorkerStore,
        slots: Slots,
        dispatch: Dispatch,
        worker_id: str,
        stopping: threading.Event,
        *,
        regain_lease: Callable[[], None],
        burst: bool,
        block_timeout: float,
    ) -> None:
        self._queue = queue
        self._store = store
        self._slots = slots
        self._dispatch = dispatch
        self._regain_lease = regain_lease
        self._worker_id = worker_id
        self._stopping = stopping
        self._burst = burst
        self._block_timeout = block_timeout
        self._drained: set[str] = set()  # types whose last claim found fewer jobs than asked
        self._drained_lock = threading.Lock()
        self.clock_offset_ms = 0

    def run(self) -> None:
        errors = outage = 0
        while not self._stopping.is_set():
            idle = self._slots.idle()  # read before the slots: a job may end while we claim
            wanted = self._slots.free()
            if not wanted:
                if self._burst and idle and not self._slots.holding():
                    return
                self._slots.wait_for_room(self._slots.timeout(0.5))
                continue
            try:
                if outage:  # one line for the outage's end (a claim may not reach Redis: ping)
                    self._store.ping()
                    log.info("Redis is reachable again after %d failed attempts: fetching jobs", outage)
                    outage = 0
                claimed = self._claim(wanted)
                if not claimed and self._burst:
                    if idle and not self._slots.holding():
                        return
                    self._slots.wait(self._slots.timeout(0.05))
                elif not claimed:
                    self._wait_for_work(wanted)
                errors = 0
            except redis.RedisError as error:
                errors, outage = errors + 1, outage + 1
                pause_after_error(self._queue, "fetching jobs", error, errors, self._stopping.wait)
            except Exception as error:  # a bug or odd data must not end the loop: log, back off, go on
                errors += 1
                log.exception("unexpected error while fetching jobs")
                self._queue.report_error(error, logged=True)
                self._stopping.wait(backoff_seconds(errors))

    def take(self, asked: dict[str, int], claimed: list[Claimed], claimed_at: int | None = None) -> None:
        """Start the jobs claimed for ``asked``, by this loop or by a report's refill, and note
        the types that came short: until a token says otherwise, they have no job waiting."""
        unwanted = self._dispatch(claimed, claimed_at)
        got: dict[str, int] = {}
        for _, _, fields in claimed:
            job_type = fields.get("type", "")
            got[job_type] = got.get(job_type, 0) + 1
        with self._drained_lock:
            for job_type, n in asked.items():
                if got.get(job_type, 0) < n:
                    self._drained.add(job_type)
                else:
                    self._drained.discard(job_type)
        self._give_back(unwanted)

    def measure_clock(self) -> None:
        """How far this process's clock is ahead of Redis's (ms, to within a round trip): a
        claim timed by Redis, as the one behind a BLPOP is, stays in this worker's time."""
        before = time.time()
        seconds, micros = self._store.redis_time()
        after = time.time()
        self.clock_offset_ms = round(((before + after) / 2 - seconds - micros / 1e6) * 1000)

    def _claim(self, wanted: dict[str, int], popped: int = 0, popped_type: str = "") -> list[Claimed]:
        """Claim for the free slots, except of types just found empty: until a wake-up token
        says otherwise, asking again would cost a round trip to learn nothing (burst mode asks
        anyway, as it never waits for tokens)."""
        with self._drained_lock:
            ask = {t: n for t, n in wanted.items() if self._burst or t not in self._drained or t == popped_type}
        if not ask:
            return []
        claims = self._store.claim_jobs(now_ms(), self._worker_id, ask, popped, popped_type)
        if claims.status is ReplyCode.NO_LEASE:  # frozen past its lease: renew it, then claim
            self._regain_lease()
            claims = self._store.claim_jobs(now_ms(), self._worker_id, ask, popped, popped_type)
            if claims.status is ReplyCode.NO_LEASE:  # gone again at once: the next round retries
                return []
        if claims.waits:
            self._slots.hold(claims.waits)
        self.take(ask, claims.claimed)
        return claims.claimed

    def _wait_for_work(self, wanted: dict[str, int]) -> None:
        """Wait for a wake-up token and claim in the same round trip, until jobs were claimed
        (and started) or the slots changed (a job ended, a pause, a stop). Timeouts and stale
        tokens alone do not return: an idle worker then costs Redis one BLPOP and one claim
        call per block_timeout, the claim stopping at an LPOP and one EXISTS when none of
        its types has a job waiting."""
        token_types = dict(zip(self._store.token_keys(list(wanted)), wanted))
        while self._slots.begin_wait(wanted):  # false once a slot freed (or a pause, a stop): claim again first
            try:
                woken = self._store.wait_and_claim(
                    list(wanted),
                    self._slots.timeout(self._block_timeout),
                    self._worker_id,
                    self.clock_offset_ms,
                    wanted,
                )
            finally:
                self._slots.end_wait()
            popped = token_types.get(woken.popped_key or "", "")
            claimed = self._settle_woken(woken, popped, wanted)
            if woken.error is not None:
                raise woken.error  # after the jobs it claimed were started: the fetch loop backs off
            if woken.status is ReplyCode.NO_LEASE:  # frozen past its lease: renew it, claim again
                self._regain_lease()  # (its token went back: the popped type counts as not drained)
                claimed = self._claim(self._slots.free(), 0, popped)
            if claimed or self._stopping.is_set() or self._slots.free() != wanted:
                return

    def _settle_woken(self, woken: Woken, popped: str, wanted: dict[str, int]) -> list[Claimed]:
        """Start what the claim behind the BLPOP took, and keep one token per inactive job.
        That claim consumed a token for each job it took where it found one, so the token
        BLPOP popped is one too many when that type's claim had found all of its own; it is
        owed back, too, when the claim did not run or stood aside for a wake-up of this
        worker's, or claimed nothing for want of a lease. Without the script (NOSCRIPT), claim
        now, counting the popped token, as a plain wake-up would."""
        if woken.claimed is None and woken.error is None:
            return self._claim(wanted, 1 if popped else 0, popped)
        claimed = woken.claimed or []
        if woken.waits:
            self._slots.hold(woken.waits)
        if claimed:
            self.take(wanted, claimed, woken.claimed_at)
        if popped:
            self._return_tokens(popped, self._tokens_owed(woken, popped))
        return claimed

    @staticmethod
    def _tokens_owed(woken: Woken, popped: str) -> int:
        if woken.claimed is None or woken.claimed_at == -1 or woken.status is ReplyCode.NO_LEASE:
            return 1
        got, consumed = woken.counts.get(popped, (0, 0))
        if not got and popped in woken.waits:  # a limit left its job waiting: keep its token
            return 1
        return consumed - max(got - 1, 0)

    def _return_tokens(self, job_type: str, count: int) -> None:
        if count <= 0:
            return
        try:
            self._store.give_back_tokens(job_type, count)
        except redis.RedisError as error:  # the upkeep tick restores missing tokens
            self._queue.report_error(error)

    def _give_back(self, claimed: list[Claimed]) -> None:
        """Requeue jobs claimed for this worker once it no longer wanted them: it began to stop,
        or their type was paused (no attempt spent)."""
        line = "claimed as its worker stopped taking jobs of its type; requeued"
        for job_id, claim, _ in claimed:
            try:
                self._store.release_job(job_id, claim, now_ms(), line)
            except redis.RedisError as error:  # the upkeep of another worker recovers it as stalled
                self._queue.report_error(error)
