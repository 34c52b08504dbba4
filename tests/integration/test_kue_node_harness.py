"""The Node Kue harness itself, checked against Kue's source: the keys and job hash of
lib/queue/job.js and the event messages of lib/queue/events.js.

These tests involve no pykue code: real Kue writes to the private redis-server and we read
the raw keys. If they fail, the interop tests built on the harness cannot be trusted.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests import kue_node as harness
from tests.helpers import KUE_TO_JSON_ORDER
from tests.kue_node import kue_node, kue_node_modules  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.node


def now_ms() -> int:
    return int(time.time() * 1000)


def assert_recent_ms(value: str, before: int) -> None:
    assert re.fullmatch(r"\d{13}", value), value
    assert before - 5 <= int(value) <= now_ms() + 5


def test_a_kue_job_hash_has_exactly_kues_fields(kue_node, client):
    # Given Kue saves a job with every option a producer usually sets
    before = now_ms()
    [job_id] = kue_node.create_jobs(
        [
            {
                "type": "email",
                "data": {"title": "welcome tj", "to": "tj@x.com"},
                "priority": "high",
                "attempts": 3,
                "ttl": 5000,
                "backoff": {"type": "exponential", "delay": 100},
                "removeOnComplete": True,
            }
        ]
    )

    # Then the hash holds the fields Kue's Job.prototype.save writes, encoded as Kue encodes them
    assert job_id == 1
    job = client.hgetall("q:job:1")
    assert set(job) == {
        "type",
        "data",
        "priority",
        "state",
        "created_at",
        "promote_at",
        "updated_at",
        "max_attempts",
        "ttl",
        "backoff",
        "removeOnComplete",
    }
    assert job["type"] == "email"
    assert json.loads(job["data"]) == {"title": "welcome tj", "to": "tj@x.com"}
    assert job["priority"] == "-10"
    assert job["state"] == "inactive"
    assert job["max_attempts"] == "3"
    assert job["ttl"] == "5000"
    assert json.loads(job["backoff"]) == {"type": "exponential", "delay": 100}
    assert job["removeOnComplete"] == "true"
    for field in ("created_at", "promote_at", "updated_at"):
        assert_recent_ms(job[field], before)
    assert job["promote_at"] == job["created_at"]
    assert int(job["updated_at"]) >= int(job["created_at"])

    # And Kue's indexes (Job.prototype.state): zid members, priority scores, one wake-up token
    assert client.get("q:ids") == "1"
    assert client.smembers("q:job:types") == {"email"}
    for key in ("q:jobs", "q:jobs:inactive", "q:jobs:email:inactive"):
        assert client.zrange(key, 0, -1, withscores=True) == [("01|1", -10.0)]
    assert client.lrange("q:email:jobs", 0, -1) == ["1"]


def test_a_delayed_kue_job_is_scored_by_promote_at_only_in_the_global_set(kue_node, client):
    [job_id] = kue_node.create_jobs([{"type": "email", "priority": "low", "delay": 5000}])

    job = client.hgetall(f"q:job:{job_id}")
    assert job["state"] == "delayed"
    assert job["delay"] == "5000"
    assert int(job["promote_at"]) == int(job["created_at"]) + 5000
    assert client.zrange("q:jobs:delayed", 0, -1, withscores=True) == [("01|1", float(job["promote_at"]))]
    assert client.zrange("q:jobs:email:delayed", 0, -1, withscores=True) == [("01|1", 10.0)]
    assert not client.exists("q:email:jobs")  # no token until promotion
    assert client.zcard("q:jobs:inactive") == 0


def test_a_function_backoff_is_stored_as_its_source_text(kue_node, client):
    source = "function (attempts, delay) { return 250; }"
    [job_id] = kue_node.create_jobs([{"type": "email", "attempts": 2, "backoff_source": source}])

    assert client.hget(f"q:job:{job_id}", "backoff") == source
    assert kue_node.get_job(job_id)["backoff"] == {"function": source}


def test_zids_keep_fifo_order_past_nine(kue_node, client):
    ids = kue_node.create_jobs([{"type": "email"}] * 10)

    assert ids == list(range(1, 11))
    assert client.zrange("q:jobs:email:inactive", 0, -1) == [f"01|{n}" for n in range(1, 10)] + ["02|10"]


def test_kue_reads_a_job_back_in_kues_to_json_shape(kue_node):
    [job_id] = kue_node.create_jobs(
        [
            {
                "type": "email",
                "data": {"title": "welcome tj"},
                "priority": "high",
                "attempts": 3,
                "ttl": 5000,
            }
        ]
    )

    entry = kue_node.get_job(job_id)
    job = entry["json"]

    assert list(job) == [key for key in KUE_TO_JSON_ORDER if key in job]
    assert job["id"] == job_id
    assert job["priority"] == -10
    assert job["progress"] == 0
    assert job["state"] == "inactive"
    assert job["ttl"] == "5000"
    assert job["attempts"] == {"made": 0, "remaining": 3, "max": 3}
    assert entry["log"] == []
    # An id taken from a URL stays a string, as on Kue's GET /job/:id
    assert kue_node.get_job(str(job_id))["json"]["id"] == str(job_id)


def test_kue_counts_ranges_and_types(kue_node):
    kue_node.create_jobs(
        [
            {"type": "email", "priority": "low"},
            {"type": "email", "priority": "high"},
            {"type": "video", "delay": 60000},
        ]
    )

    views = kue_node.query(
        counts=True,
        count_types=["email"],
        types=True,
        state_ids=["inactive"],
        work_time=True,
        ranges=[
            {"kind": "state", "state": "inactive"},
            {"kind": "type", "type": "email", "state": "inactive", "order": "desc"},
        ],
    )

    assert views["counts"] == {"inactive": 2, "active": 0, "complete": 0, "failed": 0, "delayed": 1}
    assert views["counts_by_type"]["email"]["inactive"] == 2
    assert views["types"] == ["email", "video"]
    assert views["state_ids"] == {"inactive": [2, 1]}  # by score: high (-10) before low (10)
    assert views["work_time"] is None  # NaN on a fresh DB
    assert [job["id"] for job in views["ranges"][0]] == [1, 2]  # pages sorted by id
    assert [job["id"] for job in views["ranges"][1]] == [2, 1]


def test_a_kue_worker_completes_a_job_and_reports_progress_logs_and_events(kue_node, client):
    with kue_node.start_worker(["email"], max_jobs=1) as worker:
        [job_id] = kue_node.create_jobs(
            [
                {
                    "type": "email",
                    "data": {
                        "behaviour": "progress",
                        "result": {"sent": True},
                        "logs": [["sending to %s", "tj"]],
                        "progress": [[1, 2, {"step": "one"}], [2, 2]],
                    },
                }
            ]
        )
        result = worker.wait()

    assert [(run["id"], run["outcome"], run["attempt"]) for run in result["runs"]] == [(job_id, "ok", 1)]
    job = client.hgetall(f"q:job:{job_id}")
    assert job["state"] == "complete"
    assert json.loads(job["result"]) == {"sent": True}
    assert job["progress"] == "100"
    assert json.loads(job["progress_data"]) == {"step": "one"}
    assert job["attempts"] == "1"
    assert re.fullmatch(r"kue:[^:]+:\d+:email:1", job["workerId"])
    assert int(job["duration"]) >= 0
    assert client.lrange(f"q:job:{job_id}:log", 0, -1) == ["sending to tj"]

    # The creator's `enqueue` travels on another Kue connection and may reach the worker after
    # it stopped listening (Kue publishes on lib/redis.js's shared client, not the job's), so only
    # the worker's own ordered messages count.
    events = [(e["event"], e["args"]) for e in result["events"]]
    assert [event for event in events if event[0] != "job enqueue"] == [
        ("job start", [job_id, "email", None]),
        ("job progress", [job_id, 50, {"step": "one"}]),
        ("job progress", [job_id, 100, None]),
        ("job complete", [job_id, {"sent": True}, None]),
    ]


def test_a_kue_worker_retries_then_fails_with_kues_events(kue_node, client):
    with kue_node.start_worker(["email"], max_jobs=1) as worker:
        [job_id] = kue_node.create_jobs(
            [
                {
                    "type": "email",
                    "attempts": 2,
                    "data": {"behaviour": "fail_string", "message": "myError"},
                }
            ]
        )
        result = worker.wait()

    assert [run["attempt"] for run in result["runs"]] == [1, 2]
    job = client.hgetall(f"q:job:{job_id}")
    assert (job["state"], job["error"], job["attempts"]) == ("failed", "myError", "2")
    outcome_events = [
        (e["event"], e["args"]) for e in result["events"] if e["event"] in ("job failed attempt", "job failed")
    ]
    assert outcome_events == [
        ("job failed attempt", [job_id, "myError", 1]),
        ("job failed", [job_id, "myError", None]),
    ]


def test_the_events_listener_decodes_a_raw_kue_message(kue_node, client):
    # Given a listener that Kue has subscribed
    listener = kue_node.start_events(count=1, events=["job complete"])

    # When a message in Kue's format (exports.emit in lib/queue/events.js) is published by anyone
    client.publish("q:events", json.dumps({"id": 7, "event": "complete", "args": ["complete", {"x": 1}, None]}))

    # Then Kue's queue-level listener got (id, result, null)
    [event] = listener.wait()["events"]
    assert (event["event"], event["args"]) == ("job complete", [7, {"x": 1}, None])


def test_the_events_listener_sees_kue_enqueue_events(kue_node):
    listener = kue_node.start_events(count=2, events=["job enqueue"])
    ids = kue_node.create_jobs([{"type": "email"}, {"type": "video"}])

    events = listener.wait()["events"]
    assert [e["args"] for e in events] == [[ids[0], "email"], [ids[1], "video"]]


def test_kue_connects_over_the_unix_socket(kue_node, client, redis_server):
    over_socket = kue_node.with_options(redis={"socket": redis_server.socket}, prefix="sock")
    [job_id] = over_socket.create_jobs([{"type": "email", "data": {"via": "socket"}}])

    assert json.loads(client.hget(f"sock:job:{job_id}", "data")) == {"via": "socket"}
    assert kue_node.get_job(job_id, prefix="sock")["json"]["data"] == {"via": "socket"}


def test_scripts_stop_themselves_at_their_timeout(kue_node):
    listener = kue_node.start("kue_events.js", {"timeout_ms": 200}, timeout=10)

    started = time.monotonic()
    result = listener.wait()

    assert result["timed_out"] is True
    assert result["events"] == []
    assert time.monotonic() - started < 5


def test_missing_node_skips_locally_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(harness.NodeKueUnavailable, match="node and npm"):
        harness.find_node_tools()

    monkeypatch.setattr(harness, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        harness.skip_or_fail("no node")
    monkeypatch.setattr(harness, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        harness.skip_or_fail("no node")


def test_the_installed_kue_is_the_pinned_version(kue_node_modules):
    assert harness.installed_kue_version(kue_node_modules.parent) == harness.KUE_VERSION
