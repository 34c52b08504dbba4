"""Workflows (pykue/canvas.py) run by real ``pykue worker`` processes on a private Redis:
chains pass results along and stop at a failure, groups and chords collect results in order,
a chord's callback is created once and never lost, and a workflow's keys go with its jobs."""

from __future__ import annotations

import os
import signal

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from pykue import InvalidJobError, JobFailedError, JobNotFoundError, Queue, WorkflowHandle, chain, chord, group
from pykue.web import create_app
from tests.helpers import wait_for
from tests.integration.test_declared_keys import PREFIX, script_calls, unreal_keys
from tests.kue_node import kue_node, kue_node_modules  # noqa: F401  (pytest fixtures)
from tests.workerapp.flows import build
from tests.workerapp.support import runs

FLOWS = "tests.workerapp.flows"


@pytest.fixture
def flows(client, redis_server):
    """The workflow tasks' Queue (prefix ``q``) on the session's private Redis, flushed."""
    queue = build(redis_server.url, "q")
    yield queue
    queue.close()


def tasks(queue: Queue):
    t = queue.tasks
    return t["flow_add"], t["flow_boom"], t["flow_member"], t["flow_collect"]


def test_a_three_step_chain_passes_each_result_to_the_next_step(flows, client, spawn_worker):
    add, *_ = tasks(flows)
    spawn_worker(app=FLOWS)
    # When a chain of three steps is started
    handle = chain(add.s(1, 2), add.s(10), add.s(y=100)).delay()
    # Then every step's job id is known at once, reserved together
    first = handle.id
    assert handle.job_ids == [first, first + 1, first + 2]
    # And each step received the previous result as its first argument
    assert handle.wait(20) == 113
    assert [(r["x"], r["y"]) for r in runs(client, "flow_add")] == [(1, 2), (3, 10), (13, 100)]
    # And each step is an ordinary Kue job of its task's type, with the data it ran with
    jobs = handle.jobs()
    assert [(job.type, job.state, job.data) for job in jobs] == [
        ("flow_add", "complete", {"args": [1, 2]}),
        ("flow_add", "complete", {"args": [3, 10]}),
        ("flow_add", "complete", {"y": 100, "args": [13]}),
    ]
    assert client.zcard("q:jobs:flow_add:complete") == 3
    # And the workflow reads back from its id, with its links
    view = WorkflowHandle.load(flows, first).view()
    assert [(s.id, s.parents, s.children) for s in view.steps] == [
        (first, [], [first + 1]),
        (first + 1, [first], [first + 2]),
        (first + 2, [first + 1], []),
    ]


def test_a_middle_step_failing_for_good_stops_the_chain(flows, client, spawn_worker):
    add, boom, *_ = tasks(flows)
    spawn_worker(app=FLOWS)
    # Given a chain whose second step fails on both its attempts
    handle = chain(add.s(1, 1), boom.s(), add.s(5), add.s(6)).delay()
    first = handle.id
    # When it runs, wait() raises, naming the step that failed, with its error
    with pytest.raises(JobFailedError) as raised:
        handle.wait(20)
    assert raised.value.job_id == first + 1
    assert "ValueError: boom" in raised.value.error
    # And the failing step ran its two attempts, got the first result, and nothing ran after it
    assert [r["previous"] for r in runs(client, "flow_boom")] == [2, 2]
    assert len(runs(client, "flow_add")) == 1
    # And the steps that will never run are failed, with an error naming the step that stopped them
    stopped = handle.jobs()[2:]
    assert [(job.id, job.state) for job in stopped] == [(first + 2, "failed"), (first + 3, "failed")]
    assert {job.error for job in stopped} == {f"Workflow stopped: step 2 (job {first + 1}) failed"}
    assert client.zcard("q:jobs:failed") == 3 and client.zcard("q:jobs:inactive") == 0


def test_a_group_returns_results_in_order_or_names_its_failed_member(flows, client, spawn_worker):
    add, boom, member, _ = tasks(flows)
    spawn_worker(app=FLOWS)
    assert group(member.s(i, seconds=0.05 * (3 - i)) for i in range(3)).delay().wait(20) == [
        {"i": i, "big": 2**60 + i, "f": 0.1 * i} for i in range(3)
    ]
    failing = group(add.s(1, 1), boom.s(), add.s(2, 2)).delay()
    with pytest.raises(JobFailedError) as raised:
        failing.wait(20)
    assert raised.value.job_id == failing.job_ids[1]


def test_a_100_member_chord_on_two_workers_runs_its_callback_once_with_every_result_in_order(
    flows, client, spawn_worker
):
    _, _, member, collect = tasks(flows)
    one, two = spawn_worker("--concurrency", "10", app=FLOWS), spawn_worker("--concurrency", "10", app=FLOWS)
    # When a chord of 100 members runs on two worker processes
    handle = chord([member.s(i, seconds=0.02) for i in range(100)], collect.s(label="all")).delay()
    outcome = handle.wait(60)
    # Then its callback ran once, with the 100 results in member order, big ints and floats intact
    assert outcome == {"n": 100, "results": [{"i": i, "big": 2**60 + i, "f": 0.1 * i} for i in range(100)]}
    assert [r["label"] for r in runs(client, "flow_collect")] == ["all"]
    # And both workers ran members, completing them in separate calls
    assert {r["pid"] for r in runs(client, "flow_member")} == {one.pid, two.pid}
    assert client.zcard("q:jobs:complete") == 101


def test_a_worker_killed_right_after_a_member_completes_loses_no_chord_callback(flows, client, spawn_worker):
    _, _, member, collect = tasks(flows)
    workers = [spawn_worker("--concurrency", "3", "--stalled-timeout", "1", app=FLOWS) for _ in range(2)]
    handle = chord([member.s(i, seconds=0.2) for i in range(12)], collect.s(label="after kill")).delay()
    # When the worker that completed the first member is SIGKILLed as soon as that member is complete
    members = handle.job_ids[:12]
    done = wait_for(lambda: [i for i, state in zip(members, client_states(client, members)) if state == "complete"], 20)
    ran = {r["id"]: r["pid"] for r in runs(client, "flow_member")}
    victim = next(w for w in workers if w.pid == ran[done[0]])
    os.killpg(victim.pid, signal.SIGKILL)
    # Then the other worker finishes the chord (recovering the killed worker's jobs), and the
    # callback runs once, with every result
    outcome = handle.wait(60)
    assert outcome["n"] == 12 and [r["i"] for r in outcome["results"]] == list(range(12))
    assert [r["label"] for r in runs(client, "flow_collect")] == ["after kill"]


def client_states(client, ids):
    pipe = client.pipeline()
    for job_id in ids:
        pipe.hget(f"q:job:{job_id}", "state")
    return pipe.execute()


def test_a_chord_member_failing_fails_the_callback_without_running_it(flows, client, spawn_worker):
    add, boom, _, collect = tasks(flows)
    spawn_worker(app=FLOWS)
    handle = chord([add.s(1, 1), boom.s(), add.s(2, 2)], collect.s()).delay()
    with pytest.raises(JobFailedError) as raised:
        handle.wait(20)
    assert raised.value.job_id == handle.job_ids[1]
    callback = flows.get_job(handle.job_ids[3])
    assert callback.state == "failed"
    assert callback.error == f"Workflow stopped: step 2 (job {handle.job_ids[1]}) failed"
    # the other members still complete, and creating the callback twice never happens
    wait_for(lambda: client_states(client, [handle.job_ids[0], handle.job_ids[2]]) == ["complete"] * 2, 20)
    assert runs(client, "flow_collect") == []
    assert client_states(client, [handle.job_ids[3]]) == ["failed"]


def test_an_immutable_signature_ignores_the_previous_result(flows, client, spawn_worker):
    add, *_ = tasks(flows)
    echo = flows.tasks["flow_echo"]
    spawn_worker(app=FLOWS)
    handle = (add.s(1, 2) | echo.si("fixed", k=1) | echo.s()).delay()
    assert handle.wait(20) == {"args": [{"args": ["fixed"], "kwargs": {"k": 1}}], "kwargs": {}}


def test_removing_a_workflows_jobs_removes_its_keys(flows, client, spawn_worker):
    add, *_ = tasks(flows)
    # Given a finished chain, and a queued one that no worker has started
    worker = spawn_worker(app=FLOWS)
    finished = chain(add.s(1, 1), add.s(1)).delay()
    finished.wait(20)
    worker.kill()
    queued = chain(add.s(1, 1), add.s(1), add.s(1)).delay()
    assert client.exists(f"q:pykue:flow:{finished.id}", f"q:pykue:flow:{queued.id}") == 2
    # When the finished chain's jobs are removed, its flow's hash goes with the last one
    flows.remove_job(finished.job_ids[0])
    assert client.exists(f"q:pykue:flow:{finished.id}") == 1
    flows.remove_job(finished.job_ids[1])
    assert client.exists(f"q:pykue:flow:{finished.id}") == 0
    # And removing the queued chain's only job forgets the steps that can now never exist
    flows.remove_job(queued.job_ids[0])
    assert client.exists(f"q:pykue:flow:{queued.id}") == 0
    with pytest.raises(JobNotFoundError):
        queued.wait(1)
    assert client.keys("q:pykue:flow:*") == []


def test_steps_removed_on_completion_take_the_workflows_keys_with_them(flows, client, spawn_worker):
    add, *_ = tasks(flows)
    spawn_worker(app=FLOWS)
    quick = add.with_options(remove_on_complete=True)
    handle = chain(quick.s(1, 1), quick.s(2), quick.s(3)).delay()
    wait_for(lambda: client.exists("q:jobs") == 0 and client.keys("q:pykue:flow:*") == [], 20)
    assert [(r["x"], r["y"]) for r in runs(client, "flow_add")] == [(1, 1), (2, 2), (4, 3)]
    with pytest.raises(JobNotFoundError):
        handle.wait(1)


def test_a_bad_step_stores_nothing(flows, client):
    add, *_ = tasks(flows)
    other = Queue(flows.client, "other")
    try:
        stranger = other.task("flow_add")(lambda x=0, y=0: x + y)
        with pytest.raises(InvalidJobError):
            chain(add.s(1), stranger.s(2)).delay()
        with pytest.raises(InvalidJobError):
            chain(add.s(1), add.s(object())).delay()
        with pytest.raises(InvalidJobError):
            chain()
        with pytest.raises(InvalidJobError):
            add.s(args=[1])
    finally:
        other.close()
    assert client.keys("*") == []


def test_a_task_used_in_chains_still_runs_node_kue_jobs_of_plain_data(kue_node, flows, client, spawn_worker):
    add, *_ = tasks(flows)
    # Given a Node Kue producer's job of the chain task's type, with plain keyword data
    [node_id] = kue_node.create_jobs([{"type": "flow_add", "data": {"x": 5, "y": 6}}])
    spawn_worker(app=FLOWS)
    # When a pykue worker runs it beside a chain of the same task
    handle = chain(add.s(1, 2), add.s(y=4)).delay()
    assert handle.wait(20) == 7
    wait_for(lambda: flows.get_job(node_id).state == "complete", 20)
    # Then the Node job ran with its own data, and Node Kue reads every step as a job of its own
    assert flows.get_job(node_id).result == 11
    entries = kue_node.get_jobs(handle.job_ids)
    assert [(e["json"]["type"], e["json"]["state"], e["json"]["result"]) for e in entries] == [
        ("flow_add", "complete", 3),
        ("flow_add", "complete", 7),
    ]
    assert entries[1]["json"]["data"] == {"y": 4, "args": [3]}


def test_the_json_api_names_a_steps_workflow(flows, client):
    add, *_ = tasks(flows)
    handle = chord([add.s(1, 1), add.s(2, 2)], add.s()).delay()
    plain = flows.create("flow_add", {"x": 1}).save()
    http = Client(create_app(flows), Response)
    accept = {"Accept": "application/json"}
    # A step's workflow: every step with its state (the callback not created yet) and links
    body = http.get(f"/pykue/job/{handle.job_ids[1]}/workflow", headers=accept).json
    a, b, callback = handle.job_ids
    assert body == {
        "workflow": {
            "id": a,
            "kind": "chord",
            "failed": None,
            "steps": [
                {"step": 1, "id": a, "type": "flow_add", "state": "inactive", "parents": [], "children": [callback]},
                {"step": 2, "id": b, "type": "flow_add", "state": "inactive", "parents": [], "children": [callback]},
                {"step": 3, "id": callback, "type": "flow_add", "state": "waiting", "parents": [a, b], "children": []},
            ],
        }
    }
    # A job in no workflow, and an id that names no job, have none
    assert http.get(f"/pykue/job/{plain.id}/workflow", headers=accept).json == {"workflow": None}
    assert http.get("/pykue/job/x1/workflow", headers=accept).json == {"workflow": None}


def test_nested_workflows_pass_results_as_celery_does(flows, client, spawn_worker):
    add, _, member, collect = tasks(flows)
    spawn_worker(app=FLOWS)
    # a chain through a group: each member gets the step before, the step after gets their list
    fan = chain(add.s(1, 1), group(add.s(10), add.s(20)), collect.s(label="fan")).delay()
    assert fan.wait(20) == {"n": 2, "results": [12, 22]}
    # a group of chains returns the last result of each chain, in order
    assert group(chain(add.s(1, 1), add.s(1)), add.s(5, 5)).delay().wait(20) == [3, 10]
    # a chord whose header holds a chain gets that chain's last result in its place
    nested = chord([chain(add.s(1, 1), add.s(100)), member.s(7)], collect.s(label="nested")).delay()
    assert nested.wait(20)["results"] == [102, {"i": 7, "big": 2**60 + 7, "f": 0.1 * 7}]


def test_a_workflow_on_a_hash_tagged_prefix_declares_only_real_keys(redis_server, client, workers):
    # Given a queue whose keys share one Redis Cluster slot
    q = build(redis_server.url, PREFIX)
    add, boom, member, collect = tasks(q)
    try:
        with script_calls(redis_server.url) as calls:
            # When chains (one stopped by a failure) and a chord start and run to their end
            done = chord([member.s(i) for i in range(5)], collect.s()).delay()
            stopped = chain(add.s(1, 1), boom.s(), add.s(1)).delay()
            workers.burst(q)
        # Then they ran, every key a call declared is the queue's, and the flows live under it
        assert done.wait(5)["n"] == 5
        with pytest.raises(JobFailedError):
            stopped.wait(5)
        assert calls and unreal_keys(calls) == []
        assert set(client.keys("*pykue:flow:*")) == {
            f"{PREFIX}:pykue:flow:{done.id}",
            f"{PREFIX}:pykue:flow:{stopped.id}",
        }
    finally:
        q.close()


def test_cancelling_a_running_chain_stops_its_running_step_and_fails_the_rest(flows, client, spawn_worker):
    add, loop = flows.tasks["flow_add"], flows.tasks["flow_loop"]
    spawn_worker(app=FLOWS)
    # Given a chain whose second step is running, beside a delayed step, in one group
    handle = group(chain(add.s(1, 1), loop.s(), add.s(5), add.s(6)), add.with_options(delay=60_000).s(7, 7)).delay()
    _, running, third, fourth, delayed = handle.job_ids
    wait_for(lambda: runs(client, "flow_loop"), 20)
    # When the handle is cancelled
    handle.cancel("user asked")
    # Then the running step stops, the delayed one is cancelled, and the rest never run
    states = lambda: client_states(client, handle.job_ids)  # noqa: E731
    wait_for(lambda: states() == ["complete", "failed", "failed", "failed", "failed"], 20, message=states)
    jobs = {job.id: job for job in handle.jobs()}
    assert jobs[running].error.startswith("Cancelled: user asked")
    assert jobs[delayed].error.startswith("Cancelled: user asked")
    assert jobs[third].error == jobs[fourth].error == f"Workflow stopped: step 2 (job {running}) cancelled"
    with pytest.raises(JobFailedError) as raised:
        handle.wait(5)
    assert raised.value.job_id == running
    assert len(runs(client, "flow_add")) == 1


def test_retention_trims_a_workflows_steps_and_then_its_keys(flows, client, spawn_worker):
    add, *_ = tasks(flows)
    spawn_worker(app=FLOWS)
    # Given steps kept by a retention rule: only the last complete flow_add job stays
    keep_one = add.with_options(remove_on_complete=1)
    first = chain(keep_one.s(1, 1), keep_one.s(1), keep_one.s(1)).delay()
    assert first.wait(20) == 4
    # Then the trimmed steps are gone, and the flow's hash lives while its last step does
    assert [job.id for job in first.jobs()] == [first.job_ids[2]]
    assert client.exists(f"q:pykue:flow:{first.id}") == 1
    # And when the next chain's steps trim the last one, the first flow's hash goes with it
    second = chain(keep_one.s(2, 2), keep_one.s(2)).delay()
    assert second.wait(20) == 6
    assert client.keys("q:pykue:flow:*") == [f"q:pykue:flow:{second.id}"]


def test_cancelling_a_step_its_retention_removes_still_stops_the_chain(flows, client):
    add, *_ = tasks(flows)
    # Given a queued chain whose first step is removed as soon as it fails (remove_on_fail=True)
    handle = chain(add.with_options(remove_on_fail=True).s(1, 1), add.s(5), add.s(6)).delay()
    first, second, third = handle.job_ids
    # When the chain is cancelled
    handle.cancel("not needed")
    # Then the steps after it exist, failed, naming the cancelled step, and wait() returns at once
    assert client_states(client, handle.job_ids) == [None, "failed", "failed"]
    stopped = {job.id: job.error for job in handle.jobs()}
    assert stopped == {n: f"Workflow stopped: step 1 (job {first}) cancelled" for n in (second, third)}
    with pytest.raises((JobFailedError, JobNotFoundError)):
        handle.wait(5)


def test_steps_a_failure_stops_follow_their_retention_rule_and_take_the_flows_keys(flows, client):
    add, *_ = tasks(flows)
    # Given a chain whose every step is removed as soon as it fails for good
    drop = add.with_options(remove_on_fail=True)
    handle = chain(drop.s(1, 1), drop.s(5), drop.s(6)).delay()
    # When its first step is cancelled, stopping the rest
    handle.cancel()
    # Then no step is left behind, nor the flow's keys: retention applies to stopped steps too
    assert client_states(client, handle.job_ids) == [None, None, None]
    assert client.keys("q:pykue:flow:*") == []
    assert client.zcard("q:jobs:failed") == 0
