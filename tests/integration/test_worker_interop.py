"""The worker against real Node Kue 0.11.6 (tests/kue_node.py): a job Node Kue created is run
by ``pykue worker`` and a pykue job by a Node Kue worker, and each side reads the states,
results, logs and events it expects."""

from __future__ import annotations

import json

import pytest

import pykue
from tests.helpers import wait_for
from tests.kue_node import kue_node, kue_node_modules  # noqa: F401  (pytest fixtures)
from tests.workerapp.support import EventLog

pytestmark = pytest.mark.node


def events_of(job_events, job_id):
    return [(e["event"], e["args"]) for e in job_events[str(job_id)]]


def test_pykue_worker_runs_jobs_node_kue_created(kue_node, client, spawn_worker):
    # Given Node Kue jobs, watched by their Kue Job objects: one that logs, reports progress and
    # returns a result, and one that fails twice with a fixed backoff
    watcher = kue_node.watch_jobs(
        [
            {
                "type": "kue_job",
                "priority": "high",
                "data": {"logs": [["hello %s", "kue"]], "progress": [[1, 2]], "result": {"sent": True}},
            },
            {
                "type": "kue_job",
                "attempts": 2,
                "backoff": {"type": "fixed", "delay": 100},
                "data": {"behaviour": "fail", "message": "nope"},
            },
        ],
        timeout=30,
    )
    ok_id, failing_id = watcher.ready["ids"]
    # When a pykue worker process runs them
    spawn_worker()
    job_events = watcher.wait(20)["job_events"]
    # Then Kue's Job objects got the events of a Kue worker run, results and errors included
    assert events_of(job_events, ok_id) == [
        ("enqueue", ["kue_job"]),
        ("start", ["kue_job", None]),
        ("progress", [50, None]),
        ("complete", [{"sent": True}, None]),
    ]
    failing = events_of(job_events, failing_id)
    assert [name for name, _ in failing] == [
        "enqueue",
        "start",
        "error",
        "failed attempt",
        "promotion",
        "enqueue",
        "start",
        "error",
        "failed",
    ]
    assert failing[3][1] == ["nope", 1] and failing[-1][1] == ["nope", None]
    assert failing[2][1][0].startswith("ValueError: nope\nTraceback")
    # And Kue's Job.get reads what a Kue worker would have stored
    ok, failed = kue_node.get_jobs([ok_id, failing_id])
    assert ok["json"]["state"] == "complete" and ok["json"]["result"] == {"sent": True}
    assert ok["json"]["progress"] == "100" and ok["log"] == ["hello kue"]
    assert ok["json"]["attempts"] == {"made": 1, "remaining": 0, "max": 1}
    assert int(ok["json"]["duration"]) >= 0 and ok["json"]["workerId"].startswith("pykue:")
    assert failed["json"]["state"] == "failed" and failed["json"]["error"].startswith("ValueError: nope\n")
    assert failed["json"]["attempts"] == {"made": 2, "remaining": 0, "max": 2}
    assert failed["json"]["delay"] == "100" and failed["log"] == ["ValueError: nope"] * 2
    assert kue_node.query(work_time=True)["work_time"] == int(ok["json"]["duration"])


def test_node_kue_listeners_see_a_pykue_worker_run(kue_node, app_queue, client, spawn_worker):
    # Given Node Kue listening to queue-level events
    listener = kue_node.start_events(count=5)
    # When pykue creates a job and a pykue worker runs it
    spawn_worker()
    job = app_queue.tasks["bound"].delay(who="node")
    result = job.wait(10)
    # Then Kue's queue listeners got (id, ...) for enqueue, start, progress, complete
    events = [(e["event"], e["args"]) for e in listener.wait(10)["events"]]
    assert events == [
        ("job enqueue", [job.id, "bound"]),
        ("job start", [job.id, "bound", None]),
        ("job progress", [job.id, 50, {"step": "half"}]),
        ("job progress", [job.id, 100, None]),
        ("job complete", [job.id, result, None]),
    ]
    assert kue_node.get_job(job.id)["json"]["result"] == {"id": job.id, "same": True, "data": {"who": "node"}}


def test_node_kue_worker_runs_jobs_pykue_created(kue_node, app_queue, client):
    events = EventLog(app_queue)
    # Given pykue tasks' jobs for a type a Node Kue worker processes: one that succeeds with
    # logs and progress, one that fails once and is retried with a fixed backoff, one that fails
    task = app_queue.tasks["kue_job"]
    ok = task.delay(behaviour="progress", result={"from": "node"})
    flaky = task.with_options(attempts=2, backoff={"type": "fixed", "delay": 100}).delay(
        behaviour="fail_until", fail_attempts=1, result=7
    )
    failing = task.delay(behaviour="fail", message="node says no")
    # When a Node Kue worker runs them
    with kue_node.start_worker(["kue_job"], max_jobs=3, promotion_interval=50) as worker:
        result = worker.wait(20)
    # Then Node saw pykue's data and attempts as its own
    runs = {(r["id"], r["attempt"]): r for r in result["runs"]}
    assert set(runs) == {(ok.id, 1), (flaky.id, 1), (flaky.id, 2), (failing.id, 1)}
    assert runs[(ok.id, 1)]["data"] == {"behaviour": "progress", "result": {"from": "node"}}
    assert runs[(flaky.id, 1)]["backoff"] == {"type": "fixed", "delay": 100}
    # And pykue reads Kue's results, errors, logs and progress, and Job.wait works on them
    assert ok.wait(5) == {"from": "node"}
    assert flaky.wait(5) == 7
    with pytest.raises(pykue.JobFailedError) as info:
        failing.wait(5)
    assert info.value.error.startswith("Error: node says no\n    at ")
    ok.refresh()
    assert (ok.state, ok.progress(), ok.logs()) == ("complete", 100, ["progress"])
    assert ok.worker_id.startswith("kue:") and ok.duration is not None
    assert flaky.refresh().attempts() == (2, 0, 2) and flaky.logs() == ["Error: failed"]
    assert failing.refresh().state == "failed" and failing.attempts() == (1, 0, 1)
    # And pykue's listeners got Kue's events, in Kue's order
    wait_for(
        lambda: "complete" in events.of(flaky.id) and "failed" in events.of(failing.id), 5, message="the final events"
    )
    assert events.of(ok.id) == ["enqueue", "start", "progress", "progress", "complete"]
    assert events.of(flaky.id) == [
        "enqueue",
        "start",
        "error",
        "failed attempt",
        "promotion",
        "enqueue",
        "start",
        "complete",
    ]
    assert events.args(flaky.id, "failed attempt") == [("failed", 1)]
    assert events.of(failing.id)[-2:] == ["error", "failed"]
    assert app_queue.work_time() == sum(int(client.hget(f"q:job:{j.id}", "duration")) for j in (ok, flaky))


def test_a_pykue_worker_leaves_node_kue_types_alone(kue_node, app_queue, client, spawn_worker):
    # Given a Node Kue job of a type no pykue task handles, next to one pykue runs
    [node_only] = kue_node.create_jobs([{"type": "node_only", "data": {"n": 1}}])
    spawn_worker()
    app_queue.tasks["echo"].delay(n=1).wait(10)
    # Then the pykue worker never took it, and a Node Kue worker still can
    assert client.hget(f"q:job:{node_only}", "state") == "inactive"
    with kue_node.start_worker(["node_only"], max_jobs=1) as worker:
        result = worker.wait(10)
    assert [r["id"] for r in result["runs"]] == [node_only]
    assert json.loads(client.hget(f"q:job:{node_only}", "data")) == {"n": 1}


def test_a_node_function_backoff_is_a_fixed_retry_with_the_stored_delay(kue_node, client, spawn_worker):
    # Given a Node Kue job delayed 100 ms whose backoff is JavaScript source (returning 400)
    source = "function (attempts, delay) { return 400; }"
    watcher = kue_node.watch_jobs(
        [
            {
                "type": "kue_job",
                "attempts": 2,
                "delay": 100,
                "backoff_source": source,
                "data": {"behaviour": "fail", "message": "again"},
            }
        ],
        timeout=30,
    )
    [job_id] = watcher.ready["ids"]
    # When pykue runs it: the source is never evaluated, the retry waits the stored 100 ms
    spawn_worker()
    events = {e["event"]: e["at"] for e in watcher.wait(20)["job_events"][str(job_id)]}
    stored = client.hgetall(f"q:job:{job_id}")
    assert (stored["state"], stored["attempts"], stored["delay"]) == ("failed", "2", "100")
    assert stored["backoff"] == source
    assert int(stored["started_at"]) >= int(stored["promote_at"])  # the second run waited for it
    starts = [e["at"] for e in watcher.result["job_events"][str(job_id)] if e["event"] == "start"]
    assert len(starts) == 2 and starts[1] - starts[0] < 400  # (as Node received them)
    assert "failed" in events
