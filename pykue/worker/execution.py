"""Running one job's function: ``def`` tasks on a thread pool, ``async def`` tasks on one
asyncio loop, and the outcome (result JSON, or Kue's error text) handed back to the worker."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..context import reset_current_job, set_current_job
from ..fields import encodes_utf8
from ..job_hash import dumps

if TYPE_CHECKING:
    from ..job import Job
    from ..task import Task

#: pykue's own source (the package folder), whose frames lead into a task's.
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + "/"


@dataclass
class Outcome:
    job: Job
    ok: bool
    finished_at: float
    result_json: str = ""
    error: str = ""
    summary: str = ""
    message: str = ""
    cancelled: bool = False  # an async task the worker cancelled, having given up on its job


def success(job: Job, result: Any) -> Outcome:
    try:
        return Outcome(job, True, time.time(), result_json=encode_result(result))
    except Exception as exc:  # e.g. a result whose str() raises: the job fails, it is never left active
        return failure(job, exc)


def failure(job: Job, exc: BaseException) -> Outcome:
    try:
        error, summary, message = (_utf8(text) for text in describe_error(exc))
    except Exception as unreadable:  # the exception's own str() raised: report what can be known
        head = f"{type(exc).__name__} (its message could not be read: {type(unreadable).__name__})"
        trace = "".join(traceback.format_tb(exc.__traceback__))
        return Outcome(
            job,
            False,
            time.time(),
            error=_utf8(f"{head}\nTraceback (most recent call last):\n{trace}"),
            summary=head,
            message=head,
        )
    return Outcome(job, False, time.time(), error=error, summary=summary, message=message)


def _utf8(text: str) -> str:
    """Lone surrogates (undecodable file names, say) cannot go to Redis: escape them."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def failure_text(job: Job, message: str) -> Outcome:
    return Outcome(job, False, time.time(), error=message, summary=message, message=message)


def _cancelled(job: Job) -> Outcome:
    return replace(failure_text(job, "Cancelled"), cancelled=True)


def encode_result(result: Any) -> str:
    """JSON of the result; what Kue stores for a result JSON cannot hold."""
    if result is None:
        return ""
    try:
        text = dumps(result)
    except (TypeError, ValueError):
        text = dumps({"error": True, "message": f'Invalid JSON Result: "{result}"'})
    if text.isascii() or encodes_utf8(text):
        return text
    return json.dumps(json.loads(text), separators=(",", ":"))  # lone surrogates as \u escapes


def describe_error(exc: BaseException) -> tuple[str, str, str]:
    """(stored error, log summary, event message): ``Class: message`` then the traceback,
    the shape of a Node ``err.stack`` that Kue's UI and clients show."""
    text = str(exc)
    head = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    trace = "".join(traceback.format_exception(type(exc), exc, task_frames(exc.__traceback__)))
    summary = head.splitlines()[0]  # Kue logs the first line of the stack
    return f"{head}\n{trace}", summary, text or type(exc).__name__


def task_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the task's first frame on: the worker's own frames that called it
    say nothing about the failure, and hid the task's under them in the dashboard."""
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename.startswith(PACKAGE_DIR):
        tb = tb.tb_next
    return tb


def json_error(text: str) -> str:
    """Why ``text`` is not JSON, in the json module's words."""
    try:
        json.loads(text)
    except ValueError as error:
        return str(error)
    return "no error"


class Executor:
    """Runs tasks and calls ``on_done(outcome)`` from whichever thread finished them.

    A ``def`` task's thread first offers its outcome to ``report_here(outcome)``, which may
    report it on that thread (True) rather than hand it over. The jobs that report claims
    for the freed slot, submitted meanwhile from that thread, are that thread's to run next:
    at concurrency 1 a job then goes from one task to the next on one thread, with no
    hand-off to the reporter's thread and back (two thread wake-ups per job fewer)."""

    def __init__(
        self,
        max_threads: int,
        on_done: Callable[[Outcome], None],
        new_loop: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        self.on_done = on_done
        self._new_loop = new_loop
        self.report_here: Callable[[Outcome], bool] | None = None  # set once the reporter exists
        self._here = threading.local()  # .next: the jobs a task thread's own report claimed
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._max_threads = max(1, max_threads)
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._in_threads: set[Job] = set()
        self._detached: set[Job] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._coroutines: dict[Job, asyncio.Task[Any]] = {}
        self._to_start: list[tuple[Task[Any], Job]] = []  # async jobs the loop has yet to start

    def submit(self, task: Task[Any], job: Job) -> None:
        if task.is_async:
            self._submit_async(task, job)
        else:
            claimed_here = getattr(self._here, "next", None)
            if claimed_here is not None:  # by this task thread's own report: it runs the job next
                claimed_here.append((task, job))
                return
            self._inbox.put((task, job))
            self._grow()

    def _submit_async(self, task: Task[Any], job: Job) -> None:
        """Queue an async job for the loop; the jobs submitted before the loop gets to them
        start together, for one wake-up of its thread (a self-pipe write and a GIL hand-off)."""
        loop = self._event_loop()
        with self._lock:
            self._to_start.append((task, job))
            if len(self._to_start) > 1:
                return  # a wake-up is on its way
        loop.call_soon_threadsafe(self._start_async)

    def _start_async(self) -> None:
        with self._lock:
            batch, self._to_start = self._to_start, []
        loop = self._event_loop()
        for task, job in batch:
            self._coroutines[job] = loop.create_task(self._run_async(task, job))

    def _grow(self) -> None:
        """Threads start on demand, up to the limit, and then live as long as the worker."""
        with self._lock:
            if self._idle > 0 or len(self._threads) >= self._max_threads:
                self._idle -= 1
                return
            thread = threading.Thread(target=self._thread_main, name="pykue-task", daemon=True)
            self._threads.append(thread)
        thread.start()

    def _thread_main(self) -> None:
        mine: list[tuple[Task[Any], Job]] = []  # claimed by this thread's own reports
        while True:
            item = mine.pop(0) if mine else self._inbox.get()
            if item is None:
                return
            with self._lock:
                skip = item[1] in self._detached  # given up before it started
                self._detached.discard(item[1])
                self._in_threads.add(item[1])
            if skip:  # still reported, so the worker forgets it (its claim is gone: no effect)
                mine += self._report(failure_text(item[1], "Abandoned before it started"))
            else:
                mine += self._run_sync(*item)
            with self._lock:
                self._in_threads.discard(item[1])
                leaves = item[1] in self._detached  # replaced while stuck in it: this thread leaves
                if leaves:
                    self._detached.discard(item[1])
                    self._max_threads -= 1
                    self._threads.remove(threading.current_thread())
                elif not mine:
                    self._idle += 1
            if leaves:
                for task, job in mine:  # to the other threads
                    self.submit(task, job)
                return

    def _report(self, outcome: Outcome) -> list[tuple[Task[Any], Job]]:
        """Report on this thread if the reporter lets it, else hand the outcome over; the
        jobs this thread's report claimed, for it to run next."""
        if self.report_here is None:
            self.on_done(outcome)
            return []
        mine: list[tuple[Task[Any], Job]] = []
        self._here.next = mine
        try:
            reported = self.report_here(outcome)
        finally:
            self._here.next = None
        if not reported:
            self.on_done(outcome)
        return mine

    def detach(self, job: Job) -> None:
        """The worker gave up on ``job`` (TTL, shutdown, lost claim). A thread cannot be stopped,
        so while one is stuck in it another may run, lest later jobs starve; not started yet:
        it never will be."""
        with self._lock:
            self._detached.add(job)
            if job not in self._in_threads:
                return
            self._max_threads += 1
            if self._idle >= 0:
                return  # nothing waits for a thread: one starts on demand
            self._idle += 1
            thread = threading.Thread(target=self._thread_main, name="pykue-task", daemon=True)
            self._threads.append(thread)
        thread.start()

    def cancel(self, job: Job) -> bool:
        """Cancel an async task (a thread cannot be stopped; its late result is discarded)."""
        with self._lock:
            waiting = next((item for item in self._to_start if item[1] is job), None)
            if waiting is not None:
                self._to_start.remove(waiting)
        if waiting is not None:  # never started: reported as a cancelled one is
            self.on_done(_cancelled(job))
            return True
        coroutine = self._coroutines.get(job)
        if coroutine is None or coroutine.done() or self._loop is None:
            return False
        self._loop.call_soon_threadsafe(self._cancel_on_loop, job, coroutine)
        return True

    def _cancel_on_loop(self, job: Job, coroutine: asyncio.Task[Any]) -> None:
        """A coroutine cancelled before its first step never enters ``_run_async``'s try: it
        is reported here."""
        if coroutine.cancel():
            coroutine.add_done_callback(lambda done: self._never_ran(job, done))

    def _never_ran(self, job: Job, coroutine: asyncio.Task[Any]) -> None:
        if coroutine.cancelled():
            self._coroutines.pop(job, None)
            self.on_done(_cancelled(job))

    def _run_sync(self, task: Task[Any], job: Job) -> list[tuple[Task[Any], Job]]:
        token = set_current_job(job)
        try:
            args, kwargs = task.arguments(job.data)
            outcome = success(job, task.fn(job, *args, **kwargs) if task.bind else task.fn(*args, **kwargs))
        except BaseException as exc:  # the task's failure is the job's failure, whatever it is
            outcome = failure(job, exc)
        finally:
            reset_current_job(token)
        return self._report(outcome)

    async def _run_async(self, task: Task[Any], job: Job) -> None:
        """Run an async job and report it, on the loop: no future between the two."""
        set_current_job(job)  # this coroutine runs in its own asyncio Task context
        try:
            args, kwargs = task.arguments(job.data)
            result = await (task.fn(job, *args, **kwargs) if task.bind else task.fn(*args, **kwargs))
        except asyncio.CancelledError:
            outcome = _cancelled(job)
        except BaseException as exc:  # the task's failure is the job's failure, whatever it is
            outcome = failure(job, exc)
        else:
            outcome = success(job, result)
        finally:
            self._coroutines.pop(job, None)
        self.on_done(outcome)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started by the first async job (the fetch loop and the reporter both
        start jobs: one loop for both)."""
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    loop = self._new_loop()
                    threading.Thread(target=loop.run_forever, name="pykue-asyncio", daemon=True).start()
                    self._loop = loop
        return self._loop

    def shutdown(self) -> None:
        for _ in self._threads:
            self._inbox.put(None)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
