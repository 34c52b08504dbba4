"""The tasks the workflow tests run: ``python -m pykue worker -A tests.workerapp.flows``.

Each run appends a JSON line to ``wt:runs`` (tests/workerapp/support.py ``runs``), with the
arguments it got, so a test can check what each step received in another process.
"""

from __future__ import annotations

import os
import time

from pykue import Queue
from tests.workerapp.app import record_run


def build(redis=None, prefix: str | None = None) -> Queue:
    q = Queue(redis, prefix)

    def note(kind: str, **fields) -> None:
        record_run(q, kind, **fields)

    @q.task("flow_add", concurrency=4)
    def add(x=0, y=0):
        """Used in chains (x: the previous result) and by Node Kue with data {"x": .., "y": ..}."""
        note("flow_add", x=x, y=y)
        return x + y

    @q.task("flow_boom", attempts=2)
    def boom(previous=None, message="boom"):
        note("flow_boom", previous=previous)
        raise ValueError(message)

    @q.task("flow_member", concurrency=10)
    def member(i, seconds=0.0):
        time.sleep(seconds)
        note("flow_member", i=i)
        return {"i": i, "big": 2**60 + i, "f": 0.1 * i}

    @q.task("flow_collect")
    def collect(results, label=""):
        note("flow_collect", n=len(results), label=label)
        return {"n": len(results), "results": results}

    @q.task("flow_echo")
    def echo(*args, **kwargs):
        note("flow_echo", args=list(args), kwargs=kwargs)
        return {"args": list(args), "kwargs": kwargs}

    @q.task("flow_loop", bind=True)
    def loop(job, previous=None, seconds=30.0):
        """Runs until cancelled (job.check_cancelled raises) or ``seconds`` pass."""
        note("flow_loop", previous=previous)
        deadline = time.time() + seconds
        while time.time() < deadline:
            job.check_cancelled()
            time.sleep(0.05)
        return "not cancelled"

    return q


queue = build(os.environ.get("PYKUE_REDIS_URL"))
flow_add = queue.tasks["flow_add"]
