"""pykue and real Node Kue 0.11.6 sharing one Redis: each reads what the other wrote.

Node Kue runs through the harness in ``tests/kue_node.py``. What must hold is what
docs/compatibility.md promises: the same job hash, indexes, JSON shape and event messages, so
either side can be the producer, the reader or the listener.
"""

from __future__ import annotations

import pytest

from pykue import Queue
from tests.helpers import wait_for
from tests.kue_node import kue_node, kue_node_modules  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.node

FUNCTION_BACKOFF = "function (attempts, delay) { return 250 * attempts; }"

# The same jobs, as Node Kue options and as pykue's fluent calls.
SAME_JOBS = [
    (
        {
            "type": "email",
            "data": {"title": "welcome tj", "to": "tj@x.com"},
            "priority": "high",
            "attempts": 3,
            "ttl": 5000,
            "backoff": {"type": "exponential", "delay": 100},
        },
        lambda q: (
            q.create("email", {"title": "welcome tj", "to": "tj@x.com"})
            .priority("high")
            .attempts(3)
            .ttl(5000)
            .backoff({"type": "exponential", "delay": 100})
        ),
    ),
    (
        {
            "type": "video",
            "data": {"n": [1, "é", None]},
            "priority": "low",
            "delay": 60000,
            "backoff": True,
            "removeOnComplete": True,
        },
        lambda q: (
            q.create("video", {"n": [1, "é", None]}).priority("low").delay(60000).backoff(True).remove_on_complete(True)
        ),
    ),
    ({"type": "email", "priority": -3}, lambda q: q.create("email").priority(-3)),
]


@pytest.fixture
def pykue_queue(client, redis_server):
    queue = Queue(redis=redis_server.url, prefix="q")
    yield queue
    queue.close()


def kue_view(kue_node, ids):
    """Node Kue's Job.get of each id, which must succeed."""
    entries = kue_node.get_jobs(ids)
    for entry in entries:
        assert entry["error"] is None, f"Kue could not read job {entry['id']}: {entry['error']}"
    return entries


def relative_hash(client, prefix, job_id):
    """The raw job hash with promote_at relative to created_at (timestamps differ run to run)."""
    fields = client.hgetall(f"{prefix}:job:{job_id}")
    created = int(fields.pop("created_at"))
    fields["promote_at"] = int(fields["promote_at"]) - created
    # Kue writes updated_at a few ms after created_at (separate HSETs); pykue in the same script
    assert 0 <= int(fields.pop("updated_at")) - created < 1000
    return fields


def index_entries(client, prefix, job_id, job_type):
    """Every index a job sits in: {key suffix: score}, and its type's token count."""
    member = f"{len(str(job_id)):02d}|{job_id}"
    found = {}
    for key in client.scan_iter(f"{prefix}:jobs*"):
        score = client.zscore(key, member)
        if score is not None:
            found[key[len(prefix) + 1 :]] = score
    return found, client.llen(f"{prefix}:{job_type}:jobs")


# --- pykue writes, Node Kue reads ---------------------------------------------------------------------


def test_pykue_writes_the_same_job_hash_and_indexes_as_kue(kue_node, client, redis_server):
    # Given the same jobs saved by Node Kue under prefix "q" and by pykue under "p"
    kue_ids = kue_node.create_jobs(spec for spec, _ in SAME_JOBS)
    with_p = Queue(redis=redis_server.url, prefix="p")
    try:
        py_jobs = [build(with_p).save() for _, build in SAME_JOBS]

        for kue_id, py_job, (spec, _) in zip(kue_ids, py_jobs, SAME_JOBS):
            kue_hash = relative_hash(client, "q", kue_id)
            py_hash = relative_hash(client, "p", py_job.id)
            # Then every field Kue wrote is there with Kue's encoding (pykue may add its own)
            assert {k: py_hash.get(k) for k in kue_hash} == kue_hash, spec
            # And the job sits in the same indexes with the same scores and tokens
            kue_index, kue_tokens = index_entries(client, "q", kue_id, spec["type"])
            py_index, py_tokens = index_entries(client, "p", py_job.id, spec["type"])
            if "delay" in spec:  # the delayed score is promote_at, an absolute time
                assert py_index.pop("jobs:delayed") == int(client.hget(f"p:job:{py_job.id}", "promote_at"))
                assert kue_index.pop("jobs:delayed") == int(client.hget(f"q:job:{kue_id}", "promote_at"))
            assert py_index == kue_index, spec
            assert py_tokens == kue_tokens, spec
    finally:
        with_p.close()
    assert client.smembers("p:job:types") == client.smembers("q:job:types")


def test_kue_reads_a_pykue_job_with_the_same_fields(kue_node, pykue_queue):
    # Given a job saved by pykue with the options a Kue producer uses
    job = (
        pykue_queue.create("email", {"title": "welcome tj", "to": "tj@x.com"})
        .priority("high")
        .attempts(3)
        .ttl(5000)
        .backoff({"type": "exponential", "delay": 100})
        .remove_on_complete(True)
        .save()
    )

    # When Node Kue loads it with Job.get
    [kue] = kue_view(kue_node, [job.id])

    # Then Kue's toJSON is pykue's to_json, field for field
    assert kue["json"] == job.to_json()
    assert kue["json"] == pykue_queue.get_job(job.id).to_json()
    assert kue["json"]["priority"] == -10
    assert kue["json"]["state"] == "inactive"
    assert kue["json"]["attempts"] == {"made": 0, "remaining": 3, "max": 3}
    # And Kue understood the options toJSON leaves out
    assert kue["backoff"] == {"type": "exponential", "delay": 100}
    assert kue["removeOnComplete"] == "true"
    assert kue["log"] == []


def test_kue_reads_a_delayed_pykue_job_and_its_log(kue_node, pykue_queue):
    job = pykue_queue.create("video", {"file": "a.mp4"}).priority("low").delay(60000).backoff(True).save()
    job.log("converting %s", "a.mp4")
    job.log("step %d of %d", 1, 3)

    [kue] = kue_view(kue_node, [job.id])

    assert kue["json"] == pykue_queue.get_job(job.id).to_json()
    assert kue["json"]["state"] == "delayed"
    assert kue["json"]["delay"] == "60000"
    assert int(kue["json"]["promote_at"]) == int(kue["json"]["created_at"]) + 60000
    assert kue["backoff"] is True
    assert kue["log"] == ["converting a.mp4", "step 1 of 3"]


def test_pykue_jobs_appear_in_kues_counts_ranges_and_types(kue_node, pykue_queue):
    # Given pykue jobs of two types, priorities and states
    low = pykue_queue.create("email", {"n": 1}).priority("low").save()
    high = pykue_queue.create("email", {"n": 2}).priority("high").save()
    later = pykue_queue.create("video", {"n": 3}).delay(60000).save()

    # When Node Kue asks for its counts and ranges
    views = kue_node.query(
        counts=True,
        count_types=["email", "video"],
        types=True,
        state_ids=["inactive", "delayed"],
        ranges=[
            {"kind": "range"},
            {"kind": "state", "state": "inactive", "order": "desc"},
            {"kind": "type", "type": "email", "state": "inactive", "from": 0, "to": 0},
        ],
    )

    # Then Kue counts them where pykue does
    assert views["counts"] == pykue_queue.counts()
    assert views["counts"] == {"inactive": 2, "active": 0, "complete": 0, "failed": 0, "delayed": 1}
    assert views["counts_by_type"]["email"] == pykue_queue.counts("email")
    assert views["counts_by_type"]["video"] == pykue_queue.counts("video")
    assert views["types"] == pykue_queue.types() == ["email", "video"]
    assert views["state_ids"] == {"inactive": [high.id, low.id], "delayed": [later.id]}
    # And its ranges hold the same jobs, in the same order, as pykue's
    everything, inactive_desc, email_first = views["ranges"]
    assert everything == [j.to_json() for j in pykue_queue.range(0, -1)]
    assert [j["id"] for j in inactive_desc] == [high.id, low.id]
    assert inactive_desc == [j.to_json() for j in pykue_queue.range_by_state("inactive", 0, -1, "desc")]
    assert [j["id"] for j in email_first] == [high.id]  # rank 0 = the highest priority


def test_kue_listeners_receive_pykues_events(kue_node, pykue_queue):
    # Given Node Kue listening on the queue (queue.on('job ...'))
    listener = kue_node.start_events(count=4, events=["job enqueue", "job progress", "job remove"])

    # When pykue saves a job, reports progress twice and removes it
    job = pykue_queue.create("email", {"to": "tj"}).save()
    job.progress(1, 2, {"step": "one"})
    job.progress(2, 2)
    job.remove()

    # Then Kue's listeners got each event with Kue's arguments
    events = [(e["event"], e["args"]) for e in listener.wait()["events"]]
    assert events == [
        ("job enqueue", [job.id, "email"]),
        ("job progress", [job.id, 50, {"step": "one"}]),
        ("job progress", [job.id, 100, None]),
        ("job remove", [job.id, "email"]),
    ]


def test_pykue_create_many_publishes_one_enqueue_per_job_to_kue(kue_node, pykue_queue):
    listener = kue_node.start_events(count=4, events=["job enqueue", "job remove"])

    jobs = pykue_queue.create_many([("email", {"n": 1}), ("video", {"n": 2}), ("email", {"n": 3})])
    jobs[0].remove()  # a marker: any duplicate enqueue would arrive before it

    events = [(e["event"], e["args"]) for e in listener.wait()["events"]]
    assert events == [
        ("job enqueue", [jobs[0].id, "email"]),
        ("job enqueue", [jobs[1].id, "video"]),
        ("job enqueue", [jobs[2].id, "email"]),
        ("job remove", [jobs[0].id, "email"]),
    ]


def test_kue_job_level_listeners_receive_pykues_events_for_node_jobs(kue_node, pykue_queue):
    # Given a Node process that saved a job and listens on it (job.on('progress'), ...)
    watcher = kue_node.watch_jobs([{"type": "email", "data": {"to": "tj"}}])
    [job_id] = watcher.ready["ids"]

    # When pykue reports progress on that job and then removes it
    job = pykue_queue.get_job(job_id)
    job.progress(3, 4, {"eta": 5})
    job.remove()
    wait_for(lambda: not pykue_queue.client.exists(f"q:job:{job_id}"), message="removal")

    # Then the Node Job object received them as Kue's own job events
    result = watcher.stop()
    events = [(e["event"], e["args"]) for e in result["job_events"][str(job_id)] if e["event"] != "enqueue"]
    assert events == [("progress", [75, {"eta": 5}]), ("remove", ["email"])]


def test_a_pykue_priority_change_reorders_kues_queue(kue_node, pykue_queue):
    # Given three Node Kue jobs: low, normal, normal
    low, normal, promoted = kue_node.create_jobs(
        [
            {"type": "email", "priority": "low"},
            {"type": "email"},
            {"type": "email"},
        ]
    )

    # When pykue raises the last one to critical
    pykue_queue.get_job(promoted).set_priority("critical")

    # Then Kue reads the new priority and its worker takes that job first
    assert kue_view(kue_node, [promoted])[0]["json"]["priority"] == -15
    with kue_node.start_worker(["email"], max_jobs=3) as worker:
        runs = worker.wait()["runs"]
    assert [run["id"] for run in runs] == [promoted, normal, low]


def test_pykue_requeues_a_failed_kue_job_and_a_kue_worker_runs_it_again(kue_node, pykue_queue, client):
    # Given a Node Kue worker and a job that fails on its first run
    with kue_node.start_worker(["email"], max_jobs=2) as worker:
        [job_id] = kue_node.create_jobs(
            [{"type": "email", "data": {"behaviour": "fail_until", "fail_attempts": 1, "result": "second time"}}]
        )
        wait_for(lambda: client.hget(f"q:job:{job_id}", "state") == "failed", message="the first failure")

        # When pykue puts the failed job back in the queue (Kue's "restart" button)
        pykue_queue.get_job(job_id).inactive()
        result = worker.wait()

    # Then the Node Kue worker was woken, ran it again and completed it
    assert [run["attempt"] for run in result["runs"]] == [1, 2]
    [kue] = kue_view(kue_node, [job_id])
    assert kue["json"]["state"] == "complete"
    assert kue["json"]["result"] == "second time"
    enqueues = [e["args"] for e in result["events"] if e["event"] == "job enqueue"]
    assert enqueues == [[job_id, "email"], [job_id, "email"]]  # Kue's save, then pykue's requeue


# --- Node Kue writes, pykue reads ---------------------------------------------------------------------


def test_pykue_reads_a_kue_job_with_the_same_fields(kue_node, pykue_queue):
    # Given a job saved by Node Kue with priority, attempts, delay, ttl and a backoff object
    [job_id] = kue_node.create_jobs(
        [
            {
                "type": "email",
                "data": {"title": "welcome tj", "to": "tj@x.com"},
                "priority": "high",
                "attempts": 3,
                "delay": 5000,
                "ttl": 5000,
                "backoff": {"type": "exponential", "delay": 100},
                "removeOnComplete": True,
                "logs": [["sent to %s", "tj"]],
            }
        ]
    )
    [kue] = kue_view(kue_node, [job_id])

    # When pykue loads it
    job = pykue_queue.get_job(job_id)

    # Then it sees what Kue sees
    assert job.to_json() == kue["json"]
    assert job.id == job_id
    assert job.type == "email"
    assert job.data == {"title": "welcome tj", "to": "tj@x.com"}
    assert job.priority() == -10
    assert job.attempts() == (0, 3, 3)
    assert job.delay() == 5000
    assert job.ttl() == 5000
    assert job.backoff() == {"type": "exponential", "delay": 100}
    assert job.remove_on_complete() is True
    assert job.state == "delayed"
    assert job.promote_at == job.created_at + 5000
    assert job.logs() == kue["log"] == ["sent to tj"]


def test_pykue_never_evaluates_a_kue_function_backoff(kue_node, pykue_queue, client):
    # Given a Node Kue job whose backoff is a JavaScript function (stored as its source)
    [job_id] = kue_node.create_jobs(
        [{"type": "email", "attempts": 2, "delay": 100, "backoff_source": FUNCTION_BACKOFF}]
    )
    stored = client.hgetall(f"q:job:{job_id}")
    assert stored["backoff"] == FUNCTION_BACKOFF

    # When pykue reads the job
    job = pykue_queue.get_job(job_id)

    # Then the source is plain text to pykue: not a callable, never run, never rewritten
    assert job.backoff() == FUNCTION_BACKOFF
    assert not callable(job.backoff())
    assert job.to_json() == kue_view(kue_node, [job_id])[0]["json"]
    assert client.hgetall(f"q:job:{job_id}") == stored
    # And Node Kue still finds its function there
    assert kue_view(kue_node, [job_id])[0]["backoff"] == {"function": FUNCTION_BACKOFF}


def test_pykue_reads_what_a_kue_worker_wrote(kue_node, pykue_queue):
    # Given Node Kue jobs that a Node Kue worker completed, failed for good, and retried
    with kue_node.start_worker(["email"], max_jobs=2) as worker:
        ok_id, failed_id = kue_node.create_jobs(
            [
                {
                    "type": "email",
                    "data": {
                        "behaviour": "progress",
                        "result": {"sent": 1},
                        "progress": [[1, 3, {"step": 1}], [3, 3]],
                        "logs": ["working"],
                    },
                },
                {"type": "email", "attempts": 2, "data": {"behaviour": "fail", "message": "smtp down"}},
            ]
        )
        worker.wait()
    kue = {entry["id"]: entry for entry in kue_view(kue_node, [ok_id, failed_id])}

    # When pykue loads them
    ok, failed = pykue_queue.get_job(ok_id), pykue_queue.get_job(failed_id)

    # Then every field the worker wrote reads the same on both sides
    assert ok.to_json() == kue[ok_id]["json"]
    assert failed.to_json() == kue[failed_id]["json"]
    assert (ok.state, ok.result, ok.progress(), ok.progress_data) == ("complete", {"sent": 1}, 100, {"step": 1})
    assert ok.attempts() == (1, 0, 1)
    assert ok.duration is not None and ok.worker_id == kue[ok_id]["json"]["workerId"]
    assert ok.logs() == ["working"]
    assert failed.state == "failed"
    assert failed.error.startswith("Error: smtp down\n")
    assert failed.attempts() == (2, 0, 2)
    assert failed.logs() == ["Error: smtp down", "Error: smtp down"]


def test_kue_jobs_count_and_range_the_same_in_pykue(kue_node, pykue_queue):
    ids = kue_node.create_jobs(
        [
            {"type": "email", "priority": "low"},
            {"type": "email", "priority": "critical"},
            {"type": "video", "delay": 60000},
            {"type": "email", "priority": 7},
        ]
    )
    pykue_queue.create("email", {"from": "pykue"}).priority("high").save()

    views = kue_node.query(
        counts=True,
        count_types=["email"],
        types=True,
        state_ids=["inactive"],
        ranges=[{"kind": "range"}, {"kind": "type", "type": "email", "state": "inactive", "order": "desc"}],
    )

    assert pykue_queue.counts() == views["counts"]
    assert pykue_queue.counts("email") == views["counts_by_type"]["email"]
    assert pykue_queue.types() == views["types"]
    assert pykue_queue.state_ids("inactive") == views["state_ids"]["inactive"]
    assert [j.to_json() for j in pykue_queue.range(0, -1)] == views["ranges"][0]
    assert [j.to_json() for j in pykue_queue.range_by_type("email", "inactive", 0, -1, "desc")] == views["ranges"][1]
    assert len(views["ranges"][0]) == len(ids) + 1


def test_pykue_listeners_receive_kues_events(kue_node, pykue_queue):
    # Given pykue listening at queue level
    seen = []
    for name in ("job enqueue", "job start", "job progress", "job complete"):
        pykue_queue.on(name, lambda *args, name=name: seen.append((name, list(args))))

    # When Node Kue creates a job and a Node Kue worker runs it
    with kue_node.start_worker(["email"], max_jobs=1) as worker:
        [job_id] = kue_node.create_jobs(
            [{"type": "email", "data": {"behaviour": "ok", "result": {"done": True}, "progress": [[1, 4]]}}]
        )
        worker.wait()

    # Then pykue's listeners got Kue's messages with Kue's arguments
    wait_for(lambda: any(name == "job complete" for name, _ in seen), message="job complete")
    assert ("job enqueue", [job_id, "email"]) in seen
    assert [event for event in seen if event[0] != "job enqueue"] == [
        ("job start", [job_id, "email", None]),
        ("job progress", [job_id, 25, None]),
        ("job complete", [job_id, {"done": True}, None]),
    ]


# --- the same call on both sides stores the same thing -----------------------------------------------

# job.log(...) arguments, JSON-able so Node gets the same values (Job.prototype.log in Kue's
# lib/queue/job.js stores util.format's rendering, or util.inspect's when the first argument is
# not a string).
LOG_CALLS = [
    ["plain line"],
    ["hi %s", "tj"],
    ["step %d of %d", 1, 3],
    ["%d items", "abc"],
    ["%s and %s", "x"],
    ["a", 1, "b"],
    ["100%"],
    ["%%s %s", "x"],
    [123],
    [1.23],
    [0],
    [True],
    [None],
    [{"a": 1, "b": "x"}],
    [[1, 2, 3]],
    ["sent", {"to": "tj"}],
    ["%s", {"a": 1}],
    ["%j", {"a": [1, 2]}],
]


def test_pykue_log_lines_render_like_kues(kue_node, pykue_queue, client):
    [kue_id] = kue_node.create_jobs([{"type": "email", "logs": LOG_CALLS}])
    job = pykue_queue.create("email").save()
    for args in LOG_CALLS:
        job.log(*args)

    kue_lines = client.lrange(f"q:job:{kue_id}:log", 0, -1)
    py_lines = job.logs()
    mismatches = [(args, kue, py) for args, kue, py in zip(LOG_CALLS, kue_lines, py_lines) if kue != py]
    assert len(kue_lines) == len(py_lines) == len(LOG_CALLS)
    assert not mismatches, "log(args): Kue stored / pykue stored\n" + "\n".join(
        f"  log{tuple(args)!r}: {kue!r} / {py!r}" for args, kue, py in mismatches
    )


PROGRESS_CALLS = [[1, 3], [2, 3], [0.29, 1], [5, 4], [1, 0], [-1, 2], [3, 4, {"eta": 5}]]


def test_pykue_progress_is_kues_arithmetic(kue_node, pykue_queue):
    # Kue: percent = min(100, trunc(done * 100 / total)); 0 for a total of 0; no lower clamp
    listener = kue_node.start_events(count=len(PROGRESS_CALLS), events=["job progress"])
    job = pykue_queue.create("report").save()  # not "email": the Node worker below must not take it
    for call in PROGRESS_CALLS:
        job.progress(*call)
    py_events = [e["args"][1:] for e in listener.wait()["events"]]

    with kue_node.start_worker(["email"], max_jobs=1) as worker:
        [kue_id] = kue_node.create_jobs([{"type": "email", "data": {"progress": PROGRESS_CALLS}}])
        result = worker.wait()
    kue_events = [e["args"][1:] for e in result["events"] if e["event"] == "job progress"]

    assert kue_events == [[33, None], [66, None], [28, None], [100, None], [0, None], [-50, None], [75, {"eta": 5}]]
    assert py_events == kue_events


@pytest.mark.parametrize("stored", [True, 1, "yes", "false"])
def test_pykue_reads_kues_remove_on_complete_as_kue_does(kue_node, pykue_queue, client, stored):
    # Kue writes the option as String(value) when truthy; any non-empty value reads back as true
    [job_id] = kue_node.create_jobs([{"type": "email", "removeOnComplete": stored}])
    assert kue_view(kue_node, [job_id])[0]["removeOnComplete"]  # truthy to Kue

    assert pykue_queue.get_job(job_id).remove_on_complete() is True
