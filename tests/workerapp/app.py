"""The task module the worker tests run: ``python -m pykue worker -A tests.workerapp.app``.

Every task writes what it saw to Redis under ``wt:`` keys (outside the queue's prefix), so a
test can check runs made by a worker in another process: ``wt:runs`` holds one JSON line per
run, ``wt:running:<type>``/``wt:peak:<type>`` measure overlap, ``wt:late`` records a thread
that returned after its job was taken away.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import tenacity

import pykue
from pykue import Queue

RUNS = "wt:runs"

# Count a run in, keeping the highest number seen running at once.
_ENTER = """
local n = redis.call('INCR', KEYS[1])
if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
return n
"""


class Unprintable:
    """A result neither JSON nor str() can render."""

    def __str__(self) -> str:
        raise RuntimeError("cannot render this result")

    __repr__ = __str__


class UnprintableError(Exception):
    """An exception whose message cannot be read (a buggy ``__str__``)."""

    def __str__(self) -> str:
        raise AttributeError("no message")


def record_run(q: Queue, kind: str, **fields) -> None:
    """One line in ``wt:runs``: this run's kind, job id, process and time, and ``fields``."""
    job = pykue.current_job()
    entry = {"kind": kind, "id": job.id if job else None, "pid": os.getpid(), "at": time.time(), **fields}
    q.client.rpush(RUNS, json.dumps(entry))


def build(redis=None, prefix: str | None = None) -> Queue:
    """A Queue with every test task registered (the in-process fixtures build their own)."""
    q = Queue(redis, prefix)

    def note(kind: str, **fields) -> None:
        record_run(q, kind, **fields)

    def overlap_enter(job_type: str) -> None:
        q.client.eval(_ENTER, 2, f"wt:running:{job_type}", f"wt:peak:{job_type}")

    def overlap_leave(job_type: str) -> None:
        q.client.decr(f"wt:running:{job_type}")

    @q.task("echo")
    def echo(**data):
        note("echo", data=data)
        return data

    @q.task("slow", concurrency=3)
    def slow(seconds: float = 0.3):
        overlap_enter("slow")
        try:
            time.sleep(seconds)
        finally:
            overlap_leave("slow")
        note("slow")
        return seconds

    @q.task("sleep_sync", concurrency=2)
    def sleep_sync(seconds: float = 0.3):
        started = time.time()
        time.sleep(seconds)
        note("sleep_sync", started=started)
        return "sync"

    @q.task("sleep_async", concurrency=4)
    async def sleep_async(seconds: float = 0.3):
        started = time.time()
        await asyncio.sleep(seconds)
        note("sleep_async", started=started)
        return "async"

    def flaky(job: pykue.Job, fail_times: int = 1):
        attempt = job.attempts().made + 1
        note("flaky", attempt=attempt, type=job.type)
        if attempt <= fail_times:
            raise RuntimeError(f"attempt {attempt} fails")
        return {"attempt": attempt}

    retry_kinds = {
        "retry_fixed": {"type": "fixed", "delay": 200},
        "retry_exp": {"type": "exponential", "delay": 200, "maxDelay": 400},
        "retry_true": True,
        "retry_callable": lambda attempts, delay: 100 * attempts,
        "retry_tenacity": tenacity.wait_exponential(multiplier=0.1, max=0.3),
        "retry_none": None,
    }
    for job_type, backoff in retry_kinds.items():
        q.task(job_type, attempts=4, backoff=backoff, bind=True)(flaky)

    @q.task("ttl", ttl=300, attempts=1)
    def ttl_task(seconds: float = 2.0):
        note("ttl_start")
        time.sleep(seconds)
        note("ttl_return")
        return "too late"

    @q.task("long", concurrency=2, attempts=1)
    def long(seconds: float = 1.0):
        note("long_start")
        time.sleep(seconds)
        note("long_end")
        return seconds

    q.task("long2", attempts=2)(long.fn)

    @q.task("offline", concurrency=2)
    def offline(seconds: float = 0.1):
        """Never touches Redis (for the Redis restart test): appends its run to $WT_RUNS_FILE."""
        time.sleep(seconds)
        with open(os.environ["WT_RUNS_FILE"], "a") as runs_file:
            runs_file.write(f"{pykue.current_job().id}\n")
        return seconds

    @q.task("hang_once", bind=True)
    def hang_once(job: pykue.Job, seconds: float = 30.0):
        """Hangs on its first run (the test kills the worker), succeeds on the next."""
        first = q.client.set(f"wt:hung:{job.id}", 1, nx=True)
        note("hang_once", first=bool(first), attempt=job.attempts().made + 1)
        if first:
            time.sleep(seconds)
        return {"first": bool(first)}

    @q.task("boom")
    def boom(message: str = "message"):
        raise ValueError(message)

    @q.task("surrogates")
    def surrogates(fail: bool = True):
        """Lone surrogates, as os.fsdecode makes of undecodable file names."""
        text = os.fsdecode(b"report-\xff.txt")
        if fail:
            raise FileNotFoundError(f"no such file: {text}")
        return {"file": text}

    @q.task("unserialisable")
    def unserialisable():
        return {1, 2}

    @q.task("unprintable")
    def unprintable():
        return Unprintable()

    @q.task("unprintable_async")
    async def unprintable_async():
        return Unprintable()

    @q.task("unprintable_error")
    def unprintable_error():
        raise UnprintableError()

    @q.task("unprintable_error_async")
    async def unprintable_error_async():
        raise UnprintableError()

    @q.task("bound", bind=True)
    def bound(job: pykue.Job, **data):
        assert pykue.current_job() is job
        job.log("sync %s of %d", job.type, job.id)
        job.progress(1, 2, {"step": "half"})
        job.progress(2, 2)
        return {"id": job.id, "same": pykue.current_job() is job, "data": data}

    @q.task("bound_async", bind=True)
    async def bound_async(job: pykue.Job, **data):
        await asyncio.sleep(0.01)
        job.log("async %s of %d", job.type, job.id)
        job.progress(50, 100)
        return {"id": job.id, "same": pykue.current_job() is job, "data": data}

    @q.task("unbound_current")
    async def unbound_current():
        job = pykue.current_job()
        return {"id": job.id if job else None}

    @q.task("kue_job")
    def kue_job(**data):
        """Node Kue producers drive this one through the data, as tests/node/kue_worker.js does."""
        job = pykue.current_job()
        for line in data.get("logs", []):
            job.log(*line) if isinstance(line, list) else job.log(line)
        for step in data.get("progress", []):
            job.progress(*step)
        if data.get("behaviour") == "fail":
            raise ValueError(data.get("message", "failed"))
        return data.get("result")

    return q


queue = build(os.environ.get("PYKUE_REDIS_URL"))
