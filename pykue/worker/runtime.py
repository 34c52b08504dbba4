"""The worker: fetch, run, report.

One fetch loop claims jobs for the types that have free slots (several per script call)
and blocks on Kue's wake-up token lists when there is nothing to take, with the claim sent
right behind that BLPOP, so a woken worker claims in the same round trip. A finisher thread
reports outcomes in batches, one fenced complete_jobs call per batch of successes, which
refills the slots it frees in that same call (as BullMQ's moveToFinished fetches the next
job), with the next batch's call sent before the last one's reply is read, so the worker
starts jobs while Redis runs scripts. Failures go in a pipeline of fail_job calls.
An upkeep thread promotes delayed jobs, fails TTL-expired and stalled ones, renews this
process's lease and follows pause/resume.
"""
from __future__ import annotations

import asyncio
import logging
import os
import queue as queue_module
import socket
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

import redis
from redis.exceptions import NoScriptError

from ..backoff import decode_backoff, kue_delay, strategy_delay
from ..exceptions import ConfigurationError, PykueError, TaskNotFoundError
from ..job import Job, dumps, now_ms
from ..scripts import Claimed, Completion, Woken, parse_completion, ready, spares_a_connection
from .execution import Executor, Outcome, failure_text, json_error
from .upkeep import Upkeep

if TYPE_CHECKING:
    from ..queue import Queue
    from ..task import Task

log = logging.getLogger("pykue.worker")
_STOP = object()
REPORTS_IN_FLIGHT = 2


@dataclass
class _InFlight:
    """A complete_jobs call sent whose reply is still to be read."""
    outcomes: list[Outcome]
    refill: dict[str, int]
    claimed_at: int


@dataclass
class Running:
    job: "Job"
    task: "Task[Any]"
    started: float = field(default_factory=time.monotonic)
    abandoned: bool = False
    refilling: bool = False  # its outcome is being reported with a refill claimed for its slot


class Worker:
    """Processes the jobs of a Queue's tasks. ``run()`` blocks until stopped (or, in burst
    mode, until nothing is left to take)."""

    def __init__(self, queue: "Queue", types: Iterable[str] | None = None, *, concurrency: int | None = None,
                 burst: bool = False, shutdown_timeout: float = 10.0, promote_interval: float = 1.0,
                 stalled_timeout: float = 30.0, block_timeout: float = 2.0, claim_batch: int = 100) -> None:
        self.queue = queue
        self._check_pool(queue.client.connection_pool)
        self.tasks = self._select_tasks(queue, types)
        self.limits = {t: concurrency or task.concurrency for t, task in self.tasks.items()}
        self.burst = burst
        self.shutdown_timeout = shutdown_timeout
        socket_timeout = queue.client.connection_pool.connection_kwargs.get("socket_timeout")
        # a BLPOP must return before the client's socket timeout would call it an error
        self.block_timeout = min(block_timeout, socket_timeout / 2) if socket_timeout else block_timeout
        self.claim_batch = claim_batch
        self.id = f"pykue:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake_key = queue.keys.wake(self.id)
        self.clock_offset_ms = 0
        # by (id, claim): a job retried at once can start again before its last run is released
        self.running: dict[tuple[int, str], Running] = {}
        self.busy: Counter[str] = Counter()
        self.paused: set[str] = set()
        self.locally_paused: set[str] = set()
        self.processed = 0
        self.failed = 0
        self._cond = threading.Condition()
        self._blocking_on: set[str] | None = None
        self._drained: set[str] = set()  # types whose last claim found fewer jobs than asked
        self._wake_lock = threading.Lock()  # a wake-up push never lands after _cleanup deleted the key
        self._closed = False
        self._stopping = threading.Event()
        self._finished = threading.Event()
        self._done: queue_module.SimpleQueue[Any] = queue_module.SimpleQueue()
        self._report_conn: Any = None  # the finisher's own connection, for calls in flight
        # a small or blocking pool cannot spare that connection: report one call at a time there
        self._pipelined_reports = spares_a_connection(queue.client.connection_pool)
        sync_slots = sum(n for t, n in self.limits.items() if not self.tasks[t].is_async)
        self.executor = Executor(sync_slots + 4, self._done.put)
        self.upkeep = Upkeep(self, promote_interval, stalled_timeout)

    @staticmethod
    def _check_pool(pool: Any) -> None:
        """The fetch loop's BLPOP, the finisher's reports and the upkeep's ticks each hold a
        connection at once. A blocking pool makes the others wait their turn (but its only
        connection, held by the BLPOP, would starve them); a plain pool refuses the third."""
        size = getattr(pool, "max_connections", None)
        least = 2 if isinstance(pool, redis.BlockingConnectionPool) else 3
        if size is not None and size < least:
            raise ConfigurationError(
                f"a worker needs a Redis connection pool of at least {least} connections (this "
                f"{type(pool).__name__} has max_connections={size}): its job wait (BLPOP), its reports "
                f"and its upkeep use one each at the same time")

    @staticmethod
    def _select_tasks(queue: "Queue", types: Iterable[str] | None) -> dict[str, "Task[Any]"]:
        if types is None:
            return dict(queue.tasks)
        selected = {}
        for job_type in types:
            if job_type not in queue.tasks:
                raise TaskNotFoundError(f"no task registered for type {job_type!r}; known: {sorted(queue.tasks)}")
            selected[job_type] = queue.tasks[job_type]
        return selected

    # -- lifecycle ------------------------------------------------------------------------------

    def run(self) -> None:
        if not self.tasks:
            raise TaskNotFoundError("the queue has no tasks to process")
        self.queue.workers.append(self)
        finisher = threading.Thread(target=self._finish_loop, name="pykue-finisher", daemon=True)
        try:
            self._prepare()
            finisher.start()
            self.upkeep.start()
            log.info("worker %s processing %s", self.id, ", ".join(f"{t}×{n}" for t, n in self.limits.items()))
            self._fetch_loop()
        finally:
            self._drain()
            self._done.put(_STOP)
            finisher.join()
            self.upkeep.stop()
            self._cleanup()
            self.queue.workers.remove(self)
            self._finished.set()

    def _prepare(self) -> None:
        try:
            self.queue.scripts.load_claim_woken(self.queue.client)
        except redis.RedisError as error:  # the fetch loop meets the outage and retries
            self.queue.report_error(error)

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking jobs; running ones get ``timeout`` seconds, then fail with ``Shutdown``."""
        if timeout is not None:
            self.shutdown_timeout = timeout
        self._stopping.set()
        self._wake()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until ``run()`` has returned; False on timeout."""
        return self._finished.wait(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _drain(self) -> None:
        deadline = time.monotonic() + self.shutdown_timeout
        with self._cond:
            while self._live_count() and time.monotonic() < deadline:
                self._cond.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            leftovers = [r for r in self.running.values() if not r.abandoned]
        for entry in leftovers:
            log.warning("job %s %s still running at shutdown: failing it with Shutdown", entry.job.id, entry.job.type)
            self._done.put(failure_text(entry.job, "Shutdown"))  # first: a cancelled async task reports too
            self.abandon(entry.job.id, entry.job.claim)

    def _live_count(self) -> int:
        with self._cond:  # the fetch thread changes `running` while the finisher asks
            return sum(1 for r in self.running.values() if not r.abandoned)

    def _cleanup(self) -> None:
        self.executor.shutdown()
        with self._wake_lock:
            self._closed = True
        try:
            self.queue.client.delete(self.wake_key, self.queue.keys.worker_lease(self.id))
        except redis.RedisError as error:
            self.queue.report_error(error)

    # -- fetching -------------------------------------------------------------------------------

    def _fetch_loop(self) -> None:
        errors = outage = 0
        while not self._stopping.is_set():
            idle = not self.running  # read before the slots: a job may end while we claim
            wanted = self._free_slots()
            if not wanted:
                if self.burst and idle:
                    return
                with self._cond:
                    self._cond.wait(0.5)
                continue
            try:
                if outage:  # one line for the outage's end (a claim may not reach Redis: ping)
                    self.queue.client.ping()
                    log.info("Redis is reachable again after %d failed attempts: fetching jobs", outage)
                    outage = 0
                claimed = self._claim(wanted)
                if claimed:
                    self._give_back(self._dispatch(claimed))
                elif self.burst:
                    if idle:
                        return
                    with self._cond:
                        self._cond.wait(0.05)
                else:
                    self._wait_for_work(wanted)
                errors = 0
            except redis.RedisError as error:
                errors, outage = errors + 1, outage + 1
                self._redis_trouble("fetching jobs", error, errors)
            except Exception as error:  # a bug or odd data must not end the loop: log, back off, go on
                errors += 1
                log.exception("unexpected error while fetching jobs")
                self.queue.report_error(error, logged=True)
                self._stopping.wait(min(0.1 * 2 ** min(errors, 6), 5.0))

    def _claim(self, wanted: dict[str, int], popped: int = 0, popped_type: str = "") -> list[Claimed]:
        """Claim for the free slots, except of types just found empty: until a wake-up token
        says otherwise, asking again would cost a round trip to learn nothing (burst mode asks
        anyway, as it never waits for tokens)."""
        with self._cond:
            ask = {t: n for t, n in wanted.items() if self.burst or t not in self._drained or t == popped_type}
        if not ask:
            return []
        claimed = self.queue.scripts.claim_jobs(self.queue.client, now_ms(), self.id, ask, popped, popped_type)
        self._note_claims(ask, claimed)
        return claimed

    def _note_claims(self, asked: dict[str, int], claimed: list[Claimed]) -> None:
        got = Counter(fields.get("type", "") for _, _, fields in claimed)
        with self._cond:
            for job_type, n in asked.items():
                if got[job_type] < n:
                    self._drained.add(job_type)
                else:
                    self._drained.discard(job_type)

    def _redis_trouble(self, doing: str, error: BaseException, attempt: int, even_when_stopping: bool = False) -> None:
        delay = min(0.1 * 2 ** min(attempt, 6), 5.0)
        log.warning("redis error while %s (%s); retrying in %.1fs", doing, error, delay)
        self.queue.report_error(error, logged=True)
        if even_when_stopping:
            time.sleep(delay)  # finished work must still reach Redis while the worker shuts down
        else:
            self._stopping.wait(delay)

    def _free_slots(self) -> dict[str, int]:
        with self._cond:
            return {
                t: min(limit - self.busy[t], self.claim_batch)
                for t, limit in self.limits.items()
                if self.busy[t] < limit and t not in self.paused and t not in self.locally_paused
            }

    def _wait_for_work(self, wanted: dict[str, int]) -> None:
        """Wait for a wake-up token and claim in the same round trip, until jobs were claimed
        (and started) or the slots changed (a job ended, a pause, a stop). Timeouts and stale
        tokens alone do not return: an idle worker then costs Redis one BLPOP and one claim
        call per block_timeout, the claim stopping at an LPOP and one EXISTS when none of
        its types has a job waiting."""
        token_types = {self.queue.keys.tokens(t): t for t in wanted}
        while True:
            with self._cond:
                if self._stopping.is_set() or self._free_slots().keys() != wanted.keys():
                    return  # a slot freed (or a pause, a stop) since `wanted`: claim again first
                self._blocking_on = set(wanted)
            try:
                woken = self.queue.scripts.wait_and_claim(
                    self.queue.client, [*token_types, self.wake_key], self.block_timeout,
                    self.id, self.wake_key, self.clock_offset_ms, wanted)
            finally:
                with self._cond:
                    self._blocking_on = None
            claimed = self._settle_woken(woken, token_types.get(woken.popped_key or "", ""), wanted)
            if woken.error is not None:
                raise woken.error  # after the jobs it claimed were started: the fetch loop backs off
            if claimed or self._stopping.is_set() or self._free_slots() != wanted:
                return

    def _settle_woken(self, woken: Woken, popped: str, wanted: dict[str, int]) -> list[Claimed]:
        """Start what the claim behind the BLPOP took, and keep one token per inactive job.
        That claim consumed a token for each job it took where it found one, so the token
        BLPOP popped is one too many when that type's claim had found all of its own; it is
        owed back, too, when the claim did not run or stood aside for a wake-up of this
        worker's. Without the script (NOSCRIPT), claim now, counting the popped token, as a
        plain wake-up would."""
        if woken.claimed is None and woken.error is None:
            claimed = self._claim(wanted, 1 if popped else 0, popped)
            self._give_back(self._dispatch(claimed))
            return claimed
        claimed = woken.claimed or []
        if claimed:
            self._note_claims(wanted, claimed)
            self._give_back(self._dispatch(claimed, woken.claimed_at))
        if popped:
            if woken.claimed is None or woken.claimed_at == -1:
                extra = 1
            else:
                got, consumed = woken.counts.get(popped, (0, 0))
                extra = consumed - max(got - 1, 0)
            if extra > 0:
                try:
                    self.queue.client.lpush(self.queue.keys.tokens(popped), *[1] * extra)
                except redis.RedisError as error:  # the upkeep tick restores missing tokens
                    self.queue.report_error(error)
        return claimed

    def measure_clock(self) -> None:
        """How far this process's clock is ahead of Redis's (ms, to within a round trip): a
        claim timed by Redis, as the one behind a BLPOP is, stays in this worker's time."""
        before = time.time()
        seconds, micros = self.queue.client.time()
        after = time.time()
        self.clock_offset_ms = round(((before + after) / 2 - seconds - micros / 1e6) * 1000)

    def _wake(self, only_for: str | None = None) -> None:
        """Interrupt a blocked fetch (a slot freed for a full type, a pause, a resume, a stop);
        with ``only_for``, only if it waits on that type's tokens."""
        with self._cond:
            self._cond.notify_all()
            blocked = self._blocking_on is not None and (only_for is None or only_for in self._blocking_on)
        if blocked:
            with self._wake_lock:
                if self._closed:
                    return
                try:  # two: BLPOP takes one, and the claim behind it stands aside on seeing the other
                    pipe = self.queue.client.pipeline(transaction=False)
                    pipe.lpush(self.wake_key, 1, 1)
                    pipe.pexpire(self.wake_key, 60_000)  # not left for ever by a killed worker
                    pipe.execute()
                except redis.RedisError as error:
                    self.queue.report_error(error)

    def _dispatch(self, claimed: list[Claimed], claimed_at: int | None = None) -> list[Claimed]:
        """Start the claimed jobs. A claim is sent before its reply tells what it took: jobs
        that arrive once the worker is stopping, or of a type paused since, are not started
        but returned, to be given back."""
        now = str(claimed_at or now_ms())
        unwanted = []
        for job_id, claim, fields in claimed:
            try:
                if not self._start(job_id, claim, fields, now):
                    unwanted.append(Claimed(job_id, claim, fields))
            except Exception as error:  # odd data must fail its job, not the fetch loop
                log.exception("job %s could not be started", job_id)
                job = Job.from_hash(self.queue, job_id, {"type": fields.get("type") or "unknown"})
                job.claim = claim
                self._done.put(failure_text(job, f"StartError: {type(error).__name__}: {error}"))
        return unwanted

    def _start(self, job_id: int, claim: str, fields: dict[str, str], now: str) -> bool:
        task = self.tasks.get(fields.get("type", ""))
        fields.update(state="active", started_at=now, updated_at=now, pykue_claim=claim,
                      workerId=f"{self.id}:{fields.get('type', '')}")
        job = Job.from_hash(self.queue, job_id, fields)
        job.claim = claim
        if task is None:  # its hash names another type than the set it was queued in (edited by hand)
            log.warning("job %s: no task for its type %r", job_id, fields.get("type"))
            self._done.put(failure_text(job, f"UnknownType: no task for job type {fields.get('type')!r}"))
            return True
        job.ctx = WorkerContext(self, job)
        with self._cond:  # the same lock as _drain's: a stop either sees this job or refuses it
            if self._stopping.is_set() or job.type in self.paused or job.type in self.locally_paused:
                return False
            self.running[job_id, claim] = Running(job, task)
            self.busy[job.type] += 1
        log.info("job %s %s started", job_id, job.type)
        raw = fields.get("data")
        if raw is not None and job.data is raw:  # Job keeps data that is not JSON as its text
            self._done.put(failure_text(job, f"InvalidJobData: job data is not valid JSON ({json_error(raw)})"))
            return True
        self.executor.submit(task, job)
        return True

    # -- finishing ------------------------------------------------------------------------------

    def _finish_loop(self) -> None:
        """Report outcomes with up to REPORTS_IN_FLIGHT complete_jobs calls out at once on the
        finisher's own connection: while Redis runs one batch's script, the worker starts the
        jobs the previous batch claimed, so the two take turns no more."""
        in_flight: deque[_InFlight] = deque()
        stop = False
        while not stop or in_flight:
            try:
                if in_flight and (stop or len(in_flight) >= REPORTS_IN_FLIGHT or self._done.empty()):
                    self._settle(in_flight)
                    continue
                batch = self._next_batch(wait=not in_flight)
                stop = stop or any(item is _STOP for item in batch)
                outcomes = [item for item in batch if item is not _STOP]
                if outcomes:
                    self._report(outcomes, in_flight)
            except Exception as error:  # the finisher must outlive any bug: without it the worker hangs
                log.exception("unexpected error in the finisher")
                self.queue.report_error(error, logged=True)
        self._close_report_conn()

    def _next_batch(self, wait: bool = True, gather_seconds: float = 0.001) -> list[Any]:
        """The next outcomes to report, at most half of the jobs running, so that the next
        batch can be out while this one's claims start. With nothing in flight, wait up to a
        millisecond until that half is done: one script call for many jobs costs Redis and
        Python far less than one each. A lone job is reported at once."""
        batch = [self._done.get()] if wait else [self._done.get_nowait()]
        limit = max(1, min(500, self._live_count() // REPORTS_IN_FLIGHT))
        deadline = time.monotonic() + gather_seconds
        while len(batch) < limit and batch[-1] is not _STOP:
            try:
                batch.append(self._done.get_nowait())
                continue
            except queue_module.Empty:
                pass
            left = deadline - time.monotonic()
            if not wait or left <= 0:
                break
            try:
                batch.append(self._done.get(timeout=left))
            except queue_module.Empty:
                break
        return batch

    def _report(self, outcomes: list[Outcome], in_flight: "deque[_InFlight]") -> None:
        """Send a batch of successes without waiting for its reply; anything else (failures,
        a connection lost) goes the synchronous way, once the calls in flight are settled."""
        if self._pipelined_reports and all(o.ok for o in outcomes):
            refill = self._refill_plan(outcomes)
            claimed_at = now_ms()
            done = [(o.job.id, o.job.claim, o.result_json) for o in outcomes]
            now = int(max(o.finished_at for o in outcomes) * 1000)
            try:
                conn = self._report_connection(idle=not in_flight)
                self.queue.scripts.send_complete_jobs(conn, now, done, self.id if refill else "", refill, claimed_at,
                                                      check_health=not in_flight)
            except Exception:  # not sent whole (an outage, a failed reconnect, a bug): it did not run
                self._drop_report_conn()
                self._report_lost(in_flight)
                self._report_now(outcomes, refill, claimed_at)
                return
            in_flight.append(_InFlight(outcomes, refill, claimed_at))
            return
        while in_flight:
            self._settle(in_flight)
        self._report_now(outcomes)

    def _settle(self, in_flight: "deque[_InFlight]") -> None:
        """Read the reply of the oldest call in flight and act on it."""
        sent = in_flight.popleft()
        try:
            reply = self._report_conn.read_response()
        except NoScriptError:  # did not run (a SCRIPT FLUSH, a restart): send it again, loading it
            self._report_now(sent.outcomes, sent.refill, sent.claimed_at)
            return
        except redis.ResponseError:  # as _report_now treats one: retry without the refill
            self._report_now(sent.outcomes, {})
            return
        except Exception:  # the connection is lost with this reply and those behind it
            self._drop_report_conn()
            in_flight.appendleft(sent)
            self._report_lost(in_flight)
            return
        try:
            completion = parse_completion(reply)
        except Exception:  # a reply not of complete_jobs' shape: it ran, but what it did is unknown
            log.exception("could not read the reply of a complete_jobs call; reporting its %d outcomes again",
                          len(sent.outcomes))
            self._report_now(sent.outcomes, {})  # fenced: a completion that held is not repeated
            return
        self._settled(sent.outcomes, completion.replies, sent.refill, completion.claimed, sent.claimed_at)

    def _report_lost(self, in_flight: "deque[_InFlight]") -> None:
        """Calls whose replies were lost may have run: report them again without their refills
        (completing twice is fenced by the claim; jobs a lost reply claimed are requeued as
        orphans by the upkeep tick)."""
        while in_flight:
            self._report_now(in_flight.popleft().outcomes, {})

    def _report_connection(self, idle: bool) -> Any:
        """The finisher's own connection; with no reply to read on it (``idle``), checked as
        the pool would check it on checkout."""
        if self._report_conn is None:
            self._report_conn = self.queue.client.connection_pool.get_connection()
        elif idle:
            ready(self._report_conn)
        return self._report_conn

    def _drop_report_conn(self) -> None:
        if self._report_conn is not None:
            self._report_conn.disconnect()

    def _close_report_conn(self) -> None:
        conn, self._report_conn = self._report_conn, None
        if conn is not None:
            self.queue.client.connection_pool.release(conn)

    def _report_now(self, outcomes: list[Outcome], refill: dict[str, int] | None = None,
                    claimed_at: int = 0) -> None:
        """Report and wait for the reply, retrying through Redis outages."""
        if refill is None:
            refill = self._refill_plan(outcomes)
        claimed: list[Claimed] = []
        attempt = 0
        while True:
            try:
                claimed_at = claimed_at or now_ms()  # not the outcomes' time: after an outage they can be old
                replies, claimed = self._send_outcomes(outcomes, refill, claimed_at)
                break
            except redis.RedisError as error:
                refill, claimed_at = {}, 0  # jobs a lost reply had claimed are requeued as orphans by the upkeep tick
                attempt += 1
                if attempt > 50:
                    log.error("giving up reporting %d outcomes: %s", len(outcomes), error)
                    replies = [None] * len(outcomes)
                    break
                self._redis_trouble("reporting outcomes", error, attempt, even_when_stopping=True)
            except Exception as error:  # a bug, not an outage: retrying cannot help, but the finisher must live
                log.exception("could not report %d outcomes", len(outcomes))
                replies = self._fail_plainly(outcomes, error)
                break
        self._settled(outcomes, replies, refill, claimed, claimed_at)

    def _settled(self, outcomes: list[Outcome], replies: list[Any], refill: dict[str, int],
                 claimed: list[Claimed], claimed_at: int) -> None:
        if refill:
            unwanted = self._dispatch(claimed, claimed_at)  # before the release: no slot looks free
            self._note_claims(refill, claimed)
            self._give_back(unwanted)
        for outcome, reply in zip(outcomes, replies):
            self._log_outcome(outcome, reply)
        self._release([o.job for o in outcomes])

    def _refill_plan(self, outcomes: list[Outcome]) -> dict[str, int]:
        """How many jobs of each type to claim along with reporting these outcomes: one per
        slot they free, unless the worker is stopping or the type is paused. Batches with
        failures refill nothing: they go through a redis-py pipeline, which may re-send."""
        if not all(o.ok for o in outcomes):
            return {}
        plan: Counter[str] = Counter()
        with self._cond:
            if self._stopping.is_set():
                return {}
            for o in outcomes:
                entry, job_type = self.running.get((o.job.id, o.job.claim)), o.job.type
                if (entry is not None and entry.job is o.job and not entry.abandoned and job_type in self.tasks
                        and job_type not in self.paused and job_type not in self.locally_paused):
                    entry.refilling = True  # from now on its slot is handed over, not freed
                    plan[job_type] += 1
        return dict(plan)

    def _give_back(self, claimed: list[Claimed]) -> None:
        """Requeue jobs claimed for this worker once it no longer wanted them: it began to stop,
        or their type was paused (no attempt spent)."""
        line = "claimed as its worker stopped taking jobs of its type; requeued"
        for job_id, claim, _ in claimed:
            try:
                self.queue.scripts.release_job(self.queue.client, job_id, claim, now_ms(), line)
            except redis.RedisError as error:  # the upkeep of another worker recovers it as stalled
                self.queue.report_error(error)

    def _fail_plainly(self, outcomes: list[Outcome], error: Exception) -> list[Any]:
        """Outcomes that cannot be stored as they are: fail each job with a plain ASCII error,
        so it is not left active (and requeued for ever as an orphan)."""
        text = f"ReportError: the outcome could not be stored ({type(error).__name__})"
        replies: list[Any] = []
        for o in outcomes:
            try:
                plain = failure_text(o.job, text)
                plain.finished_at = o.finished_at
                replies.append(self._send_outcomes([plain], {})[0][0])
            except Exception:
                log.exception("could not fail job %s either", o.job.id)
                replies.append(None)
        return replies

    def _send_outcomes(self, outcomes: list[Outcome], refill: dict[str, int],
                       claimed_at: int = 0) -> tuple[list[Any], list[Claimed]]:
        """One round trip: a single complete_jobs call for the successes (claiming the refill
        as of ``claimed_at``), fail_job per failure. Returns the reply per outcome and the
        jobs claimed."""
        scripts = self.queue.scripts
        successes = [o for o in outcomes if o.ok]
        failures = [o for o in outcomes if not o.ok]
        done = [(o.job.id, o.job.claim, o.result_json) for o in successes]
        now = int(max(o.finished_at for o in outcomes) * 1000)
        if not failures:
            completion = scripts.complete_jobs(self.queue.client, now, done, self.id if refill else "", refill,
                                               claimed_at or None)
            return completion.replies, completion.claimed
        pipe = self.queue.client.pipeline(transaction=False)
        if successes:
            scripts.queue_complete_jobs(pipe, now, done)
        for o in failures:
            scripts.queue_fail_job(pipe, o.job.id, o.job.claim, int(o.finished_at * 1000), o.error, o.summary,
                                   dumps(o.message), self.retry_delay(o.job))
        replies = scripts.execute(pipe)
        completion = parse_completion(replies[0]) if successes else Completion([], [])
        by_outcome = dict(zip(map(id, successes), completion.replies))
        by_outcome.update(zip(map(id, failures), replies[1:] if successes else replies))
        return [by_outcome[id(o)] for o in outcomes], []

    def retry_delay(self, job: "Job") -> int:
        """The backoff delay before the next attempt, in ms (0: retry at once, or no retry)."""
        made, _, maximum = job.attempts()
        if made + 1 >= maximum:
            return 0  # this failure is the last: no strategy is asked for a delay nobody waits
        attempts = made + 1
        task = self.queue.tasks.get(job.type)  # the tick hands this worker jobs of any type
        strategy = (task.backoff_strategy if task else None) or self.queue.backoff_strategies.get(job.type)
        try:
            if strategy is not None:
                return strategy_delay(strategy, attempts, job.delay()) or 0
            return kue_delay(decode_backoff(job._hash.get("backoff")), attempts, job.delay()) or 0
        except Exception as error:  # a broken backoff must not lose the job: retry at once
            log.warning("backoff of job %s failed (%s); retrying without delay", job.id, error)
            return 0

    def _log_outcome(self, outcome: Outcome, reply: Any) -> None:
        job = outcome.job
        entry = self.running.get((job.id, job.claim))
        took = (time.monotonic() - entry.started) * 1000 if entry else 0.0
        if reply == 0 and outcome.cancelled:  # given up on (TTL, shutdown) and already failed: expected
            log.debug("job %s %s: its cancelled task's outcome discarded", job.id, job.type)
        elif reply == 0:
            log.warning("job %s %s finished after its claim was lost (TTL exceeded, recovered or "
                        "changed by hand): result discarded", job.id, job.type)
        elif outcome.ok:
            self.processed += 1
            log.info("job %s %s completed in %.1f ms", job.id, job.type, took)
        elif reply is not None:
            self.failed += 1
            retry = "will retry" if reply > 1 else "failed for good"
            log.info("job %s %s failed in %.1f ms (%s): %s", job.id, job.type, took, retry, outcome.summary)

    def _release(self, jobs: list["Job"]) -> None:
        freed: set[str] = set()
        with self._cond:
            for job in jobs:
                entry = self.running.get((job.id, job.claim))
                if entry is None or entry.job is not job:
                    continue
                del self.running[job.id, job.claim]
                if not entry.abandoned or entry.refilling:  # a refilling job's abandon left its slot taken
                    self.busy[job.type] -= 1
                    if (self.busy[job.type] < self.limits.get(job.type, 0) and job.type not in self.paused
                            and job.type not in self.locally_paused):
                        freed.add(job.type)
            self._cond.notify_all()
            blocking = self._blocking_on
        if blocking is not None and freed - blocking:
            self._wake()

    def abandon(self, job_id: int, claim: str) -> None:
        """Give up on the run of a job that holds ``claim`` (TTL, lost claim, shutdown): free
        its slot now; cancel it if async."""
        with self._cond:
            entry = self.running.get((job_id, claim))
            if entry is None or entry.abandoned:
                return
            entry.abandoned = True
            if not entry.refilling:  # else the refill being claimed takes the slot: _release frees it
                self.busy[entry.job.type] -= 1
                self._cond.notify_all()
        self.executor.cancel(entry.job)
        if not entry.task.is_async:
            self.executor.detach(entry.job)
        if not entry.refilling:
            self._wake()

    def set_paused(self, paused: set[str]) -> None:
        with self._cond:
            resumed, newly_paused = (self.paused - paused) & set(self.tasks), (paused - self.paused) & set(self.tasks)
            self.paused = set(paused)
        for word, types in (("paused", newly_paused), ("resumed", resumed)):
            if types:
                log.info("%s: %s", word, ", ".join(sorted(types)))
        if resumed or newly_paused:
            self._wake()  # stop waiting on a paused type's tokens, or start on a resumed one


class WorkerContext:
    """Kue's ``ctx`` for a running job: pause and resume this process's intake of its type."""

    def __init__(self, worker: Worker, job: "Job") -> None:
        self._worker = worker
        self._job = job

    def pause(self, timeout: float | None = None) -> bool:
        """Take no new jobs of this type in this process. With a timeout, also wait up to that
        many seconds for the type's other running jobs to end; True once none is left. An
        async task awaits ``pause_async`` to wait: blocking here would stop the event loop
        that runs those other jobs."""
        if timeout is not None and _on_event_loop():
            raise PykueError("ctx.pause(timeout) would block the event loop the other jobs run on: "
                             "in an async task, use `await job.ctx.pause_async(timeout)`")
        self._pause_intake()
        if timeout is None:
            return True
        worker = self._worker
        deadline = time.monotonic() + timeout
        with worker._cond:
            while self._others_running():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                worker._cond.wait(min(left, 0.1))
        return True

    async def pause_async(self, timeout: float | None = None) -> bool:
        """``pause`` for async tasks: waits without blocking the event loop."""
        self._pause_intake()
        if timeout is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            with self._worker._cond:
                if not self._others_running():
                    return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _pause_intake(self) -> None:
        worker, job_type = self._worker, self._job.type
        with worker._cond:
            worker.locally_paused.add(job_type)
        log.info("paused %s in this process", job_type)
        worker._wake(only_for=job_type)  # stop waiting on its tokens

    def resume(self) -> None:
        with self._worker._cond:
            self._worker.locally_paused.discard(self._job.type)
        log.info("resumed %s in this process", self._job.type)
        self._worker._wake()

    def _others_running(self) -> bool:
        return any(r.job.type == self._job.type and r.job is not self._job and not r.abandoned
                   for r in self._worker.running.values())


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
