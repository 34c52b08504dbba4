"""The tasks the cancellation tests run in ``pykue worker`` processes: each records in Redis
(``wt:`` keys, outside the queue's prefix) when it starts and how it ended, so a test can
tell that a task was stopped, and when."""

from __future__ import annotations

import asyncio
import time

import pykue
from pykue import Queue

queue = Queue()


def note(event: str, job_id: int) -> None:
    queue.client.hset(f"wt:cancel:{job_id}", event, repr(time.time()))


@queue.task("step", bind=True, attempts=3)
def step(job: pykue.Job, steps: int = 600, seconds: float = 0.05) -> str:
    """A def task that reports progress between steps: a cancel reaches it there."""
    note("started", job.id)
    try:
        for i in range(steps):
            job.progress(i, steps)
            time.sleep(seconds)
    except pykue.JobCancelled:
        note("stopped", job.id)
        raise
    note("finished", job.id)
    return "all steps done"


@queue.task("deaf", bind=True, attempts=3)
def deaf(job: pykue.Job, seconds: float = 2.0) -> str:
    """A def task that never looks: it runs on, and its late result must be discarded."""
    note("started", job.id)
    time.sleep(seconds)
    note("finished", job.id)
    return "late result"


@queue.task("wait", bind=True, attempts=3)
async def wait(job: pykue.Job, seconds: float = 60.0) -> str:
    note("started", job.id)
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        note("stopped", job.id)
        raise
    note("finished", job.id)
    return "waited"
