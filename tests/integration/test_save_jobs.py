"""save_jobs.lua: a new job's hash, every index, its wake-up token, job:types and `enqueue`."""

from __future__ import annotations

import json
import time

import pytest
import redis

from pykue import Queue
from pykue import transport as transport_module
from tests.helpers import flush_scripts
from tests.redis_probe import EventRecorder, assert_placed, enqueue, events, snapshot, tokens  # noqa: F401


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), the checksum Redis Cluster maps keys to slots with."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    raw = key.encode()
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc16(raw) % 16384


def test_crc16_matches_the_cluster_spec():
    # Redis Cluster spec: "123456789" -> 0x31C3; the tag rule hashes only what is inside {}.
    assert crc16(b"123456789") == 0x31C3
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers") == key_slot("user1000")


def test_save_writes_the_kue_hash(queue, client):
    before = int(time.time() * 1000)
    job = queue.create("email", {"title": "welcome tj", "to": "tj@x.com"}).priority("high").attempts(3).ttl(5000)
    job.save()
    after = int(time.time() * 1000)

    assert job.id == 1
    assert client.get("q:ids") == "1"
    h = client.hgetall("q:job:1")
    assert set(h) == {
        "type",
        "data",
        "priority",
        "max_attempts",
        "created_at",
        "promote_at",
        "updated_at",
        "ttl",
        "state",
    }
    assert h["type"] == "email"
    assert json.loads(h["data"]) == {"title": "welcome tj", "to": "tj@x.com"}
    assert h["priority"] == "-10"
    assert h["max_attempts"] == "3"
    assert h["ttl"] == "5000"
    assert h["state"] == "inactive"
    assert before <= int(h["created_at"]) <= after
    assert h["promote_at"] == h["created_at"] == h["updated_at"]


def test_save_indexes_the_job_and_pushes_one_token(queue, client, events):
    queue.create("email", {"n": 1}).priority("high").save()

    assert_placed(client, 1, "email", "inactive", -10)
    assert tokens(client, "email") == ["1"]
    assert client.smembers("q:job:types") == {"email"}
    assert events.collect() == [enqueue(1, "email")]


def test_default_fields_of_a_plain_job(queue, client):
    job = queue.create("plain").save()

    h = client.hgetall(f"q:job:{job.id}")
    assert h["data"] == "{}"
    assert h["priority"] == "0"
    assert h["max_attempts"] == "1"
    for absent in ("delay", "ttl", "backoff", "removeOnComplete", "attempts", "progress"):
        assert absent not in h


def test_optional_fields_are_stored_as_kue_does(queue, client):
    job = queue.create("x").backoff({"type": "exponential", "delay": 200}).remove_on_complete(True).save()

    h = client.hgetall(f"q:job:{job.id}")
    assert json.loads(h["backoff"]) == {"type": "exponential", "delay": 200}
    assert h["removeOnComplete"] == "true"
    job2 = queue.create("x").backoff(True).save()
    assert client.hget(f"q:job:{job2.id}", "backoff") == "true"


def test_delayed_job_is_scored_by_promote_at_and_gets_no_token(queue, client, events):
    job = queue.create("email").priority("low").delay(5000).save()

    h = client.hgetall("q:job:1")
    assert h["state"] == "delayed"
    assert h["delay"] == "5000"
    assert int(h["promote_at"]) == int(h["created_at"]) + 5000
    assert_placed(client, 1, "email", "delayed", 10, score=int(h["promote_at"]))
    assert tokens(client, "email") == []
    assert client.smembers("q:job:types") == {"email"}
    assert events.collect() == []
    assert job.state == "delayed"


def test_ids_count_up_and_zids_order_like_numbers(queue, client):
    for n in range(12):
        queue.create("t", {"n": n}).save()

    members = client.zrange("q:jobs:t:inactive", 0, -1)
    assert members[:3] == ["01|1", "01|2", "01|3"]
    assert members[-3:] == ["02|10", "02|11", "02|12"]
    assert client.get("q:ids") == "12"
    assert client.llen("q:t:jobs") == 12


def test_ids_from_1e14_keep_all_their_digits(queue, client, events):
    client.set("q:ids", 10**14 - 1)  # Lua's tostring would write 1e+14 from here on

    job = queue.create("t", {"i": 1}).save()

    assert job.id == 10**14
    assert client.hget("q:job:100000000000000", "type") == "t"
    assert client.zrange("q:jobs:t:inactive", 0, -1) == ["15|100000000000000"]
    assert events.collect() == [enqueue(10**14, "t")]


def test_priority_orders_the_type_set_fifo_within_a_level(queue, client):
    queue.create("t").priority("low").save()
    queue.create("t").priority("critical").save()
    queue.create("t").save()
    queue.create("t").priority("critical").save()

    assert client.zrange("q:jobs:t:inactive", 0, -1) == ["01|2", "01|4", "01|3", "01|1"]


def test_create_many_saves_each_job_with_its_own_event(queue, client, events):
    jobs = queue.create_many([("a", {"i": 1}), ("b", {"i": 2}), queue.create("a").delay(1000)])

    assert [j.id for j in jobs] == [1, 2, 3]
    assert_placed(client, 1, "a", "inactive", 0)
    assert_placed(client, 2, "b", "inactive", 0)
    assert client.hget("q:job:3", "state") == "delayed"
    assert tokens(client, "a") == ["1"]
    assert tokens(client, "b") == ["1"]
    assert client.smembers("q:job:types") == {"a", "b"}
    assert events.collect() == [enqueue(1, "a"), enqueue(2, "b")]


def test_create_many_in_several_chunks(queue, client, monkeypatch):
    monkeypatch.setattr("pykue.queue.SAVE_CHUNK", 10)
    jobs = queue.save_jobs([queue.create("bulk", {"i": i}) for i in range(25)])

    assert [j.id for j in jobs] == list(range(1, 26))
    assert client.zcard("q:jobs:bulk:inactive") == 25
    assert client.llen("q:bulk:jobs") == 25
    assert json.loads(client.hget("q:job:25", "data")) == {"i": 24}


def test_saved_job_knows_its_fields(queue):
    job = queue.create("email", {"a": 1}).save()

    assert job.state == "inactive"
    assert job.created_at == job.promote_at
    assert queue.get_job(job.id).to_json() == job.to_json()


def test_jobs_saved_in_bulk_know_their_fields(queue, monkeypatch):
    monkeypatch.setattr("pykue.queue.SAVE_CHUNK", 2)
    jobs = queue.create_many(
        [
            ("a", {"i": 1}),
            queue.create("b", [2]).delay(5000).ttl(900).attempts(3),
            queue.create("a", "x").priority("high").remove_on_complete(True),
        ]
    )

    assert [j.state for j in jobs] == ["inactive", "delayed", "inactive"]
    assert jobs[1].promote_at == jobs[1].created_at + 5000
    for job in jobs:
        assert queue.get_job(job.id).to_json() == job.to_json()


def test_saving_twice_is_refused(queue, client):
    job = queue.create("email").save()

    with pytest.raises(Exception, match="already saved"):
        job.save()
    assert client.get("q:ids") == "1"


def test_unicode_type_and_data_round_trip(queue, client, events):
    job = queue.create("mail/ünï", {"text": 'héllo "quoted" ✓'}).save()

    assert queue.get_job(job.id).data == {"text": 'héllo "quoted" ✓'}
    assert events.collect() == [enqueue(1, "mail/ünï")]
    assert tokens(client, "mail/ünï") == ["1"]


# -- NOSCRIPT: scripts come back after SCRIPT FLUSH ---------------------------------------------


def test_save_survives_script_flush(queue, client):
    queue.create("t").save()
    flush_scripts(client)

    job = queue.create("t").save()

    assert job.id == 2
    assert_placed(client, 2, "t", "inactive", 0)


def test_create_many_pipeline_survives_script_flush(queue, client, events, monkeypatch):
    monkeypatch.setattr("pykue.queue.SAVE_CHUNK", 2)
    queue.create("t").save()
    events.collect()
    flush_scripts(client)

    jobs = queue.save_jobs([queue.create("t", {"i": i}) for i in range(5)])

    assert [j.id for j in jobs] == [2, 3, 4, 5, 6]
    assert client.zcard("q:jobs:t:inactive") == 6
    assert client.llen("q:t:jobs") == 6
    assert client.get("q:ids") == "6"  # the refused NOSCRIPT calls consumed no id
    assert [e["id"] for e in events.collect()] == [2, 3, 4, 5, 6]
    assert [j.to_json() for j in jobs] == [queue.get_job(j.id).to_json() for j in jobs]


def test_a_call_refused_with_noscript_midway_is_sent_again_alone(queue, client, monkeypatch):
    """As after a SCRIPT FLUSH between two calls of one bulk save: the calls around the refused
    one ran, so only it goes again, and no job is stored twice."""
    monkeypatch.setattr("pykue.queue.SAVE_CHUNK", 2)
    real_pack, sent = transport_module._pack, []

    def pack(conn, command, fixed=None):
        sent.append(command)
        if len(sent) == 2:  # the second call names a script Redis does not have
            command = (command[0], "0" * 40, *command[2:])
        return real_pack(conn, command, fixed)

    monkeypatch.setattr("pykue.transport._pack", pack)
    jobs = queue.save_jobs([queue.create("t", {"i": i}) for i in range(5)])

    assert len(sent) == 4  # three calls, then the refused one again
    assert sorted(j.id for j in jobs) == [1, 2, 3, 4, 5]
    assert client.get("q:ids") == "5"
    assert client.zcard("q:jobs:t:inactive") == 5 and client.llen("q:t:jobs") == 5
    assert [json.loads(client.hget(f"q:job:{j.id}", "data")) for j in jobs] == [{"i": i} for i in range(5)]
    assert [j.to_json() for j in jobs] == [queue.get_job(j.id).to_json() for j in jobs]


def test_other_scripts_survive_script_flush(queue, client):
    job = queue.create("t").save()
    flush_scripts(client)

    job.log("after flush").progress(5).set_priority("high").set_state("complete")

    assert client.lrange("q:job:1:log", 0, -1) == ["after flush"]
    assert_placed(client, 1, "t", "complete", -10)
    flush_scripts(client)
    job.remove()
    assert client.exists("q:job:1") == 0


# -- hash-tag prefix: one cluster slot -------------------------------------------------------


def test_hash_tag_prefix_keeps_every_key_in_one_slot(redis_server, client):
    q = Queue(redis=redis_server.url, prefix="{q}", search=True)
    recorder = EventRecorder(client, "{q}:events")
    try:
        job = q.create("email", {"title": "hello world"}).priority("high").save()
        q.create("email").delay(1000).save()
        job.log("line").progress(50, 100, {"step": 1}).set_priority("low").set_state("failed")
        messages = recorder.collect()
    finally:
        recorder.close()
        q.close()

    keys = list(client.scan_iter())
    assert keys
    assert all(k.startswith("{q}:") for k in keys), keys
    assert {key_slot(k) for k in keys} == {key_slot("{q}:events")}
    assert "{q}:search:word:hello" in keys
    assert [m["event"] for m in messages] == ["enqueue", "progress"]


def test_create_many_of_nothing_writes_nothing(queue, client, events):
    assert queue.create_many([]) == []
    assert client.dbsize() == 0
    assert events.collect() == []


def test_a_bulk_save_larger_than_one_script_call_stays_whole(queue, client):
    jobs = queue.create_many([("bulk", {"i": i}) for i in range(2500)])

    assert [j.id for j in jobs] == list(range(1, 2501))
    assert client.zcard("q:jobs:bulk:inactive") == 2500
    assert client.llen("q:bulk:jobs") == 2500


def test_a_bulk_save_cut_off_midway_is_not_sent_again(queue, client, monkeypatch):
    # Given a saved job (the script is loaded), then chunks of 2 jobs, the second chunk too big
    # for this server (it drops the connection on reading it)
    queue.create("t", {"seed": True}).save()
    monkeypatch.setattr("pykue.queue.SAVE_CHUNK", 2)
    client.config_set("proto-max-bulk-len", 1024 * 1024)
    try:
        jobs = [
            queue.create("t", {"i": 0}),
            queue.create("t", {"i": 1}),
            queue.create("t", {"blob": "x" * (2 * 1024 * 1024)}),
            queue.create("t", {"i": 3}),
        ]
        # When the jobs are saved, the call fails: the first chunk may have run, so nothing is re-sent
        with pytest.raises(redis.RedisError):
            queue.save_jobs(jobs)
    finally:
        client.config_set("proto-max-bulk-len", 512 * 1024 * 1024)
    # Then the first chunk was saved exactly once and nothing else
    assert client.get("q:ids") == "3"
    assert client.zcard("q:jobs:t:inactive") == 3
    assert [json.loads(client.hget(f"q:job:{i}", "data")) for i in (2, 3)] == [{"i": 0}, {"i": 1}]
    # And the queue goes on working
    assert queue.create("t", {"i": 4}).save().id == 4
