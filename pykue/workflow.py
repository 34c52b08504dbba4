"""A started workflow's handle: its steps' job ids from the start, its outcome, its jobs.

``chain(...).delay()`` (pykue/canvas.py) returns one; ``WorkflowHandle.load(queue, id)``
finds it again from its id (the first step's job id) in any process.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Protocol, cast

import redis

from .exceptions import InvalidJobError, JobFailedError, JobNotFoundError
from .fields import is_number
from .job_hash import json_field
from .keys import Keys
from .workflow_store import FlowView, Shape, poll, read_flow, step_job_id

if TYPE_CHECKING:
    from .job import Job

POLL_FIRST, POLL_MAX = 0.005, 0.1  # seconds between looks while waiting, growing


class FlowQueue(Protocol):
    """What a handle uses of its Queue (typed so, as the Queue's modules sit above this one)."""

    @property
    def client(self) -> redis.Redis: ...

    @property
    def keys(self) -> Keys: ...

    def get_jobs(self, ids: list[int]) -> list[Job]: ...

    def cancel(self, job_id: int, reason: str = "") -> Any: ...


class WorkflowHandle:
    """A chain's, group's or chord's outcome: ``wait()`` returns the last step's result (a
    list of results, in order, when the workflow ends in a group) or raises
    ``JobFailedError`` naming the first step that failed for good."""

    def __init__(self, queue: FlowQueue, flow_id: int, n_steps: int, shape: Shape) -> None:
        self.queue = queue
        self.id = flow_id
        self.shape = shape
        self.job_ids = [step_job_id(flow_id, s) for s in range(1, n_steps + 1)]

    @classmethod
    def load(cls, queue: FlowQueue, flow_id: int) -> WorkflowHandle:
        raw = cast("list[str | None]", queue.client.hmget(queue.keys.flow(flow_id), ["n", "shape"]))
        if raw[0] is None or raw[1] is None:
            raise JobNotFoundError(flow_id, "no such workflow (or all its jobs were removed)")
        return cls(queue, flow_id, int(raw[0]), Shape.from_json(raw[1]))

    def __repr__(self) -> str:
        return f"<WorkflowHandle {self.shape.kind} {self.id} jobs {self.job_ids[0]}..{self.job_ids[-1]}>"

    @property
    def exit_ids(self) -> list[int]:
        """The job ids whose results ``wait()`` returns."""
        return [step_job_id(self.id, s) for s in self.shape.exits]

    def jobs(self) -> list[Job]:
        """The steps' jobs that exist now (a step is created once its parents completed)."""
        return self.queue.get_jobs(self.job_ids)

    def view(self) -> FlowView:
        """Every step: its job id, type, state (``waiting`` before it exists) and links."""
        found = read_flow(self.queue.client, self.queue.keys, self.id)
        if found is None:
            raise JobNotFoundError(self.id, "the workflow's jobs were all removed")
        return found

    def wait(self, timeout: float | None = None) -> Any:
        """Block until every exit step completed (its result, or the list of results), or a
        step failed for good (``JobFailedError`` for that step, with its error)."""
        if timeout is not None and (not is_number(timeout) or math.isnan(timeout)):
            raise InvalidJobError("timeout", timeout, "expected a number of seconds, or None to wait for ever")
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = POLL_FIRST
        while True:
            done, value = self._look()
            if done:
                return value
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"workflow {self.id} did not finish within {timeout}s")
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(pause * 2, POLL_MAX)

    def _look(self) -> tuple[bool, Any]:
        seen = poll(self.queue.client, self.queue.keys, self.id, self.shape.exits)
        if seen.failed is not None:
            error = cast("str | None", self.queue.client.hget(self.queue.keys.job(seen.failed), "error"))
            raise JobFailedError(seen.failed, error)
        results = []
        for job_id, (status, state, result) in zip(self.exit_ids, seen.exits):
            if not seen.exists or status == "x" or (status == "d" and state is None):
                raise JobNotFoundError(job_id, "it was removed before the workflow's outcome could be read")
            if state != "complete":
                return False, None
            results.append(json_field(result))
        return True, (results if self.shape.group else results[0])

    def cancel(self, reason: str = "") -> None:
        """Cancel every step that has a job and has not finished (queued, delayed, running:
        ``queue.cancel``); the steps still to come are created failed, ``Workflow stopped:
        step N (job X) cancelled``, by the script that cancels their parent (cancel_job.lua
        calls includes/workflow.lua's ``flow_failed``). A step that a completing parent
        creates meanwhile is caught by the next round."""
        while running := self._unfinished():
            for job_id in running:
                try:
                    self.queue.cancel(job_id, reason)
                except JobNotFoundError:  # removed meanwhile
                    pass

    def _unfinished(self) -> list[int]:
        pipe = self.queue.client.pipeline(transaction=False)
        for job_id in self.job_ids:
            pipe.hget(self.queue.keys.job(job_id), "state")
        states = pipe.execute()
        return [i for i, state in zip(self.job_ids, states) if state and state not in ("complete", "failed")]
