"""Starting claimed jobs: each claimed hash becomes a Job, takes a slot and goes to the
executor; what cannot start fails at once, and what arrives unwanted is handed back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..job import Job
from ..job_hash import now_ms
from ..scripts import Claimed
from .execution import Outcome, failure_text, json_error
from .job_context import WorkerContext

if TYPE_CHECKING:
    from ..queue import Queue
    from ..task import Task
    from .slots import Slots

log = logging.getLogger("pykue.worker")


class Dispatcher:
    """Starts jobs of ``tasks`` for the worker ``worker_id``: ``submit(task, job)`` runs one,
    ``fail(outcome)`` reports one that cannot run."""

    def __init__(
        self,
        queue: Queue,
        tasks: dict[str, Task[Any]],
        worker_id: str,
        slots: Slots,
        submit: Callable[[Task[Any], Job], None],
        fail: Callable[[Outcome], None],
    ) -> None:
        self._queue = queue
        self._tasks = tasks
        self._worker_id = worker_id
        self._slots = slots
        self._submit = submit
        self._fail = fail

    def dispatch(self, claimed: list[Claimed], claimed_at: int | None = None) -> list[Claimed]:
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
                job = Job.from_hash(self._queue, job_id, {"type": fields.get("type") or "unknown"})
                job.claim = claim
                self._fail(failure_text(job, f"StartError: {type(error).__name__}: {error}"))
        return unwanted

    def _start(self, job_id: int, claim: str, fields: dict[str, str], now: str) -> bool:
        job_type = fields.get("type", "")
        task = self._tasks.get(job_type)
        fields["state"] = "active"
        fields["started_at"] = fields["updated_at"] = now
        fields["pykue_claim"] = claim
        fields["workerId"] = f"{self._worker_id}:{job_type}"
        job = Job.from_hash(self._queue, job_id, fields)
        job.claim = claim
        if task is None:  # its hash names another type than the set it was queued in (edited by hand)
            log.warning("job %s: no task for its type %r", job_id, fields.get("type"))
            self._fail(failure_text(job, f"UnknownType: no task for job type {fields.get('type')!r}"))
            return True
        job.ctx = WorkerContext(self._slots, job)
        if not self._slots.start(job, task):
            return False
        log.debug("job %s %s started", job_id, job.type)
        raw = fields.get("data")
        if raw is not None and job.data is raw:  # Job keeps data that is not JSON as its text
            self._fail(failure_text(job, f"InvalidJobData: job data is not valid JSON ({json_error(raw)})"))
            return True
        self._submit(task, job)
        return True
