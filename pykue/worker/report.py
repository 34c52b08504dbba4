"""The reporter: a thread that stores the outcomes of finished jobs and frees their slots.

It reports in batches, one fenced complete_jobs call per batch of successes, which claims
jobs for the slots it frees in that same call (as BullMQ's moveToFinished fetches the next
job). Up to REPORTS_IN_FLIGHT such calls are out at once on its own connection, so the
worker starts the jobs one batch claimed while Redis runs the next batch's script: waiting
for a reply, the reporter also listens to its inbox (pykue/worker/inbox.py). A batch
with failures, a pool that cannot spare a connection, or a call whose fate is unclear goes
the synchronous way (``_report_now``), retried through Redis outages.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from redis.exceptions import NoScriptError

from ..job_hash import now_ms
from ..replies import Completion, ReplyCode
from .execution import Outcome, failure_text
from .inbox import Inbox
from .outage import pause_after_error
from .report_args import report_args
from .report_line import UnreadableReply

if TYPE_CHECKING:
    from ..queue import Queue
    from ..scripts import Claimed
    from ..worker_store import WorkerStore
    from .report_line import ReportLine
    from .slots import Slots

log = logging.getLogger("pykue.worker")
REPORTS_IN_FLIGHT = 2
Outcomes = Inbox[Outcome | None]  # None: stop once all is reported
Refilled = Callable[[dict[str, int], list["Claimed"], int], None]


@dataclass
class _InFlight:
    """A complete_jobs call sent whose reply is still to be read."""

    outcomes: list[Outcome]
    refill: dict[str, int]
    claimed_at: int


class Reporter:
    """Reports what arrives in ``inbox`` for the worker ``worker_id``. ``refilled(asked,
    claimed, claimed_at)`` starts the jobs a report claimed for the slots it freed;
    ``regain_lease()`` renews the worker's lease when a refill was refused for want of it."""

    def __init__(
        self,
        queue: Queue,
        store: WorkerStore,
        line: ReportLine,
        slots: Slots,
        inbox: Outcomes,
        worker_id: str,
        refilled: Refilled,
        regain_lease: Callable[[], None],
    ) -> None:
        self._queue = queue
        self._store = store
        self._line = line
        self._slots = slots
        self._inbox = inbox
        self._worker_id = worker_id
        self._refilled = refilled
        self._regain_lease = regain_lease
        self._in_flight: deque[_InFlight] = deque()
        self._turn = threading.Lock()  # who reports: this thread, or a task thread (report_here)
        self._done = False  # the reporter's thread has ended: no one reports any more
        self._thread = threading.Thread(target=self._loop, name="pykue-finisher", daemon=True)
        self.processed = 0
        self.failed = 0

    @property
    def calls_out(self) -> int:
        """Reports sent whose replies are still to be read."""
        return len(self._in_flight)

    @property
    def pipelined(self) -> bool:
        """Whether calls go out in flight (else one at a time, through the pool)."""
        return self._line.pipelined

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        """Report what is left, then end the thread."""
        self._inbox.put(None)
        self._thread.join()

    # -- the loop -------------------------------------------------------------------------------

    def report_here(self, outcome: Outcome) -> bool:
        """Report a success on the calling task thread, if it is the only job running and the
        reporter is idle (concurrency 1, say): the task thread then goes on to the job the
        report claims, with no hand-off to the reporter's thread and back. False: not now,
        hand it over through the inbox. Reporting takes the reporter's turn, which its own
        thread holds except while it waits for outcomes with nothing in flight."""
        if not outcome.ok or not self._turn.acquire(blocking=False):
            return False
        try:
            if self._done or self._in_flight or not self._inbox.empty() or self._slots.live_count() != 1:
                return False
            try:
                self._report_now([outcome])
            except Exception as error:  # as the reporter's own loop: log it, live on
                log.exception("unexpected error while reporting on a task thread")
                self._queue.report_error(error, logged=True)
            return True
        finally:
            self._turn.release()

    def _loop(self) -> None:
        self._turn.acquire()
        try:
            self._run()
        finally:
            self._done = True  # a late outcome goes to the inbox, unreported, as before the turn
            self._turn.release()

    def _run(self) -> None:
        stop = False
        while not stop or self._in_flight:
            try:
                if self._in_flight and (stop or len(self._in_flight) >= REPORTS_IN_FLIGHT or self._reply_first()):
                    self._settle()
                    continue
                batch = self._next_batch(wait=not self._in_flight)
                stop = stop or any(item is None for item in batch)
                outcomes = [item for item in batch if item is not None]
                if outcomes:
                    self._report(outcomes)
            except Exception as error:  # the reporter must outlive any bug: without it the worker hangs
                log.exception("unexpected error in the finisher")
                self._queue.report_error(error, logged=True)
        try:
            self._line.close()
        finally:
            self._inbox.close()

    def _reply_first(self) -> bool:
        """With a call in flight and room for another: wait for its reply (True) or for an
        outcome to send meanwhile (False), whichever comes first, so that Redis runs the
        next batch while the worker starts the jobs the last one claimed. When every live
        job's outcome is already out (concurrency 1, say), none can come: wait for the reply
        alone, without the doorbell's system calls."""
        if self._slots.live_count() <= sum(len(sent.outcomes) for sent in self._in_flight):
            return True
        doorbell = self._inbox.listen()
        try:
            while self._inbox.empty():
                if self._line.wait(doorbell):
                    return True
                self._inbox.hush()
            return False
        finally:
            self._inbox.stop_listening()

    def _next_batch(self, wait: bool = True, gather_seconds: float = 0.001) -> list[Outcome | None]:
        """The next outcomes to report, at most half of the jobs running, so that the next
        batch can be out while this one's claims start. With nothing in flight, wait up to a
        millisecond until that half is done: one script call for many jobs costs Redis and
        Python far less than one each. A lone job is reported at once."""
        batch = [self._parked_get()] if wait else [self._inbox.get_nowait()]
        limit = max(1, min(500, self._slots.live_count() // REPORTS_IN_FLIGHT))
        deadline = time.monotonic() + gather_seconds
        while len(batch) < limit and batch[-1] is not None:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue_module.Empty:
                pass
            left = deadline - time.monotonic()
            if not wait or left <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=left))
            except queue_module.Empty:
                break
        return batch

    def _parked_get(self) -> Outcome | None:
        """Wait for the next outcome without the turn: meanwhile a task thread may report its own."""
        self._turn.release()
        try:
            return self._inbox.get()
        finally:
            self._turn.acquire()

    # -- in flight ------------------------------------------------------------------------------

    def _report(self, outcomes: list[Outcome]) -> None:
        """Send a batch of successes without waiting for its reply; anything else (failures,
        a connection lost) goes the synchronous way, once the calls in flight are settled."""
        if self._line.pipelined and all(o.ok for o in outcomes):
            refill = self._slots.refill_plan([o.job for o in outcomes])
            args = report_args(self._queue, outcomes, self._worker_id, refill, now_ms())
            try:
                self._line.send(args.now, args.done, args.refill_for, args.refill, args.claimed_at)
            except Exception:  # not sent whole: it did not run, and the replies out are lost
                self._report_lost()
                self._report_now(outcomes, refill, args.claimed_at)
                return
            self._in_flight.append(_InFlight(outcomes, refill, args.claimed_at))
            return
        while self._in_flight:
            self._settle()
        self._report_now(outcomes)

    def _settle(self) -> None:
        """Read the reply of the oldest call in flight and act on it."""
        sent = self._in_flight[0]  # out until its reply is read
        try:
            completion = self._line.receive()
        except NoScriptError:  # did not run (a SCRIPT FLUSH, a restart): send it again, loading it
            self._in_flight.popleft()
            self._report_now(sent.outcomes, sent.refill, sent.claimed_at)
            return
        except redis.ResponseError:  # as _report_now treats one: retry without the refill
            self._in_flight.popleft()
            self._report_now(sent.outcomes, {})
            return
        except UnreadableReply:  # it ran, but what it did is unknown
            self._in_flight.popleft()
            log.exception(
                "could not read the reply of a complete_jobs call; reporting its %d outcomes again", len(sent.outcomes)
            )
            self._report_now(sent.outcomes, {})  # fenced: a completion that held is not repeated
            return
        except Exception:  # the connection is lost with this reply and those behind it
            self._report_lost()
            return
        self._in_flight.popleft()
        refill = self._refill_granted(completion, sent.refill)
        self._settled(sent.outcomes, completion.replies, refill, completion.claimed, sent.claimed_at)

    def _report_lost(self) -> None:
        """Calls whose replies were lost may have run: report them again without their refills
        (completing twice is fenced by the claim; jobs a lost reply claimed are requeued as
        orphans by the upkeep tick)."""
        while self._in_flight:
            self._report_now(self._in_flight.popleft().outcomes, {})

    # -- one at a time --------------------------------------------------------------------------

    def _report_now(self, outcomes: list[Outcome], refill: dict[str, int] | None = None, claimed_at: int = 0) -> None:
        """Report and wait for the reply, retrying through Redis outages."""
        if refill is None:
            refill = self._refill_plan(outcomes)
        claimed: list[Claimed] = []
        attempt = 0
        while True:
            try:
                claimed_at = claimed_at or now_ms()  # not the outcomes' time: after an outage they can be old
                replies, claimed, refill = self._store_outcomes(outcomes, refill, claimed_at)
                break
            except redis.RedisError as error:
                refill, claimed_at = {}, 0  # jobs a lost reply had claimed are requeued as orphans by the upkeep tick
                attempt += 1
                if attempt > 50:
                    log.error("giving up reporting %d outcomes: %s", len(outcomes), error)
                    replies = [None] * len(outcomes)
                    break
                pause_after_error(self._queue, "reporting outcomes", error, attempt, time.sleep)
            except Exception as error:  # a bug, not an outage: retrying cannot help, but the reporter must live
                log.exception("could not report %d outcomes", len(outcomes))
                replies = self._fail_plainly(outcomes, error)
                break
        self._settled(outcomes, replies, refill, claimed, claimed_at)

    def _refill_plan(self, outcomes: list[Outcome]) -> dict[str, int]:
        """Batches with failures refill nothing: they go through a redis-py pipeline, which
        may re-send."""
        if not all(o.ok for o in outcomes):
            return {}
        return self._slots.refill_plan([o.job for o in outcomes])

    def _store_outcomes(
        self, outcomes: list[Outcome], refill: dict[str, int], claimed_at: int = 0
    ) -> tuple[list[Any], list[Claimed], dict[str, int]]:
        """One round trip: a single complete_jobs call for the successes (claiming the refill),
        fail_job per failure. Returns the reply per outcome, the jobs claimed and the refill
        they were claimed for."""
        args = report_args(self._queue, outcomes, self._worker_id, refill, claimed_at)
        if not args.failed:
            completion = self._store.complete_jobs(
                args.now, args.done, args.refill_for, args.refill, args.claimed_at or None
            )
            return list(completion.replies), completion.claimed, self._refill_granted(completion, refill)
        completion, fail_replies = self._store.complete_and_fail(args.now, args.done, args.failed)
        return args.merge(list(completion.replies), list(fail_replies)), [], refill

    def _refill_granted(self, completion: Completion, refill: dict[str, int]) -> dict[str, int]:
        """The refill as asked, or none when it was refused for want of a lease: the lease is
        renewed, and the slots are freed for the fetch loop to claim (their types are not
        taken for drained)."""
        if completion.refill_status is not ReplyCode.NO_LEASE:
            return refill
        try:
            self._regain_lease()
        except redis.RedisError as error:  # the upkeep tick renews it too
            self._queue.report_error(error)
        return {}

    def _fail_plainly(self, outcomes: list[Outcome], error: Exception) -> list[Any]:
        """Outcomes that cannot be stored as they are: fail each job with a plain ASCII error,
        so it is not left active (and requeued for ever as an orphan)."""
        text = f"ReportError: the outcome could not be stored ({type(error).__name__})"
        replies: list[Any] = []
        for o in outcomes:
            try:
                plain = failure_text(o.job, text)
                plain.finished_at = o.finished_at
                replies.append(self._store_outcomes([plain], {})[0][0])
            except Exception:
                log.exception("could not fail job %s either", o.job.id)
                replies.append(None)
        return replies

    # -- after the reply ------------------------------------------------------------------------

    def _settled(
        self,
        outcomes: list[Outcome],
        replies: list[Any],
        refill: dict[str, int],
        claimed: list[Claimed],
        claimed_at: int,
    ) -> None:
        if refill:  # started before the release: no slot looks free
            self._refilled(refill, claimed, claimed_at)
        jobs = [o.job for o in outcomes]
        for outcome, reply, since in zip(outcomes, replies, self._slots.started_at(jobs)):
            self._log_outcome(outcome, reply, since)
        self._slots.release(jobs)

    def _log_outcome(self, outcome: Outcome, reply: Any, started: float | None) -> None:
        job = outcome.job
        took = (time.monotonic() - started) * 1000 if started is not None else 0.0
        if reply == 0 and (outcome.cancelled or job.cancelled):  # given up on (TTL, shutdown, cancel): expected
            log.debug("job %s %s: its cancelled task's outcome discarded", job.id, job.type)
        elif reply == 0:
            log.warning(
                "job %s %s finished after its claim was lost (TTL exceeded, recovered or "
                "changed by hand): result discarded",
                job.id,
                job.type,
            )
        elif outcome.ok:
            self.processed += 1
            log.info("job %s %s completed in %.1f ms", job.id, job.type, took)
        elif reply is not None:
            self.failed += 1
            retry = "will retry" if reply > 1 else "failed for good"
            log.info("job %s %s failed in %.1f ms (%s): %s", job.id, job.type, took, retry, outcome.summary)
