"""Node Kue beside pykue's cancellation, unique jobs and retention: its listeners hear a
cancel as Kue's `job failed` (then `job cancelled`, passed on like any event), and its
Job.get reads cancelled, unique and retention-ruled jobs."""

from __future__ import annotations

import pytest

from pykue import Queue
from tests.kue_node import kue_node, kue_node_modules  # noqa: F401  (pytest fixtures)


@pytest.fixture
def pykue_queue(client, redis_server):
    queue = Queue(redis=redis_server.url, prefix="q")
    yield queue
    queue.close()


def test_node_kue_hears_a_cancel_as_a_failure(kue_node, pykue_queue: Queue) -> None:
    job = pykue_queue.create("report", {}).save()
    listener = kue_node.start_events(count=2, events=["job failed", "job cancelled"], ids=[job.id])
    job.cancel("too late")
    events = listener.wait()["events"]
    assert [(e["event"], e["args"]) for e in events] == [
        ("job failed", [job.id, "Cancelled: too late", None]),
        ("job cancelled", [job.id, "Cancelled: too late"]),
    ]
    seen = kue_node.get_job(job.id)
    assert seen["json"]["state"] == "failed" and seen["json"]["error"] == "Cancelled: too late"


def test_node_kue_reads_unique_and_retention_ruled_jobs(kue_node, pykue_queue: Queue) -> None:
    ruled = (
        pykue_queue.create("report", {"day": "mon"})
        .unique(True, for_seconds=60)
        .remove_on_complete({"age": 60, "count": 5})
        .remove_on_fail(3)
        .save()
    )
    seen = kue_node.get_job(ruled.id)
    assert seen["json"]["data"] == {"day": "mon"} and seen["json"]["state"] == "inactive"
    assert not seen["removeOnComplete"]  # pykue's own rule: a Node worker keeps the job
