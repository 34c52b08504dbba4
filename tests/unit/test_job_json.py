"""Job.to_json(): Kue's toJSON keys, order and value types (lib/queue/job.js), no Redis needed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pykue import Attempts, InvalidJobError, Job, Queue
from pykue.job_hash import as_int, json_field
from tests.helpers import KUE_TO_JSON_ORDER


@pytest.fixture
def offline_queue() -> Queue:
    """A Queue object that never connects: to_json and the setters do no I/O."""
    return Queue(redis="redis://127.0.0.1:1/0")


def test_the_observed_kue_example(offline_queue: Any) -> None:
    fields = {
        "type": "email",
        "data": '{"title":"welcome tj","to":"tj@x.com"}',
        "priority": "-10",
        "state": "inactive",
        "created_at": "1795324101317",
        "promote_at": "1795324101317",
        "updated_at": "1795324101391",
        "ttl": "5000",
        "max_attempts": "3",
    }
    job = Job.from_hash(offline_queue, 1, fields)

    out = job.to_json()

    expected = json.loads(
        '{"id":1,"type":"email","data":{"title":"welcome tj","to":"tj@x.com"},"priority":-10,"progress":0,'
        '"state":"inactive","created_at":"1795324101317","promote_at":"1795324101317",'
        '"updated_at":"1795324101391","ttl":"5000","attempts":{"made":0,"remaining":3,"max":3}}'
    )
    assert out == expected
    assert list(out) == list(expected)


def test_every_field_in_kues_order_with_kues_types(offline_queue: Any) -> None:
    fields = {
        "ttl": "100",
        "workerId": "kue:h:1:email:1",
        "delay": "20",
        "duration": "7",
        "started_at": "5",
        "failed_at": "4",
        "updated_at": "3",
        "promote_at": "2",
        "created_at": "1",
        "error": "Error: x",
        "state": "failed",
        "progress_data": '{"s":1}',
        "progress": "100",
        "priority": "5",
        "result": '{"ok":true}',
        "data": "[1,2]",
        "type": "t",
        "attempts": "2",
        "max_attempts": "5",
        "removeOnComplete": "true",
        "backoff": "true",
        "pykue_claim": "w:1",
    }
    out = Job.from_hash(offline_queue, 9, fields).to_json()

    assert list(out) == KUE_TO_JSON_ORDER
    assert out["id"] == 9 and out["data"] == [1, 2] and out["result"] == {"ok": True}
    assert out["priority"] == 5 and out["progress"] == "100" and out["progress_data"] == {"s": 1}
    for name in (
        "created_at",
        "promote_at",
        "updated_at",
        "failed_at",
        "started_at",
        "duration",
        "delay",
        "ttl",
        "workerId",
        "error",
        "state",
    ):
        assert isinstance(out[name], str), name
    assert out["attempts"] == {"made": 2, "remaining": 3, "max": 5}
    assert json.dumps(out)


def test_absent_fields_are_left_out_and_progress_is_number_zero(offline_queue: Any) -> None:
    out = Job.from_hash(offline_queue, 3, {"type": "t", "data": "{}", "priority": "0"}).to_json()

    assert list(out) == ["id", "type", "data", "priority", "progress", "attempts"]
    assert out["progress"] == 0 and isinstance(out["progress"], int)
    assert out["attempts"] == {"made": 0, "remaining": 1, "max": 1}


def test_attempts_remaining_never_negative(offline_queue: Any) -> None:
    job = Job.from_hash(offline_queue, 3, {"type": "t", "attempts": "4", "max_attempts": "3"})
    assert job.attempts() == Attempts(4, 0, 3)


def test_a_new_job_serialises_without_redis(offline_queue: Any) -> None:
    job = offline_queue.create("email", {"to": "a"}).priority("high").attempts(3)

    out = job.to_json()

    assert out == {
        "id": None,
        "type": "email",
        "data": {"to": "a"},
        "priority": -10,
        "progress": 0,
        "attempts": {"made": 0, "remaining": 3, "max": 3},
    }


def test_non_json_stored_text_is_returned_raw(offline_queue: Any) -> None:
    out = Job.from_hash(offline_queue, 1, {"type": "t", "data": "not json", "result": "oops"}).to_json()
    assert out["data"] == "not json" and out["result"] == "oops"


def test_setters_chain_and_getters_read_back(offline_queue: Any) -> None:
    job = (
        offline_queue.create("t")
        .priority("low")
        .attempts(4)
        .delay(1500)
        .ttl(300)
        .backoff({"type": "fixed", "delay": 10})
        .remove_on_complete(True)
        .search_keys("a.b")
        .events(False)
    )

    assert (job.priority(), job.delay(), job.ttl(), job.remove_on_complete(), job.events()) == (
        10,
        1500,
        300,
        True,
        False,
    )
    assert job.attempts() == Attempts(0, 4, 4)
    assert job.backoff() == {"type": "fixed", "delay": 10}
    assert job.search_keys() == ["a.b"]


def test_kue_options_object(offline_queue: Any) -> None:
    job = offline_queue.create("t").apply_kue_options(
        {"priority": "high", "attempts": "3", "delay": 0, "backoff": {"type": "fixed", "delay": 1}}
    )
    assert (job.priority(), job.attempts().max, job.delay()) == (-10, 3, None)
    with pytest.raises(InvalidJobError, match="backoff"):
        offline_queue.create("t").apply_kue_options({"backoff": "function(){return 1}"})
    with pytest.raises(InvalidJobError, match="options"):
        offline_queue.create("t").apply_kue_options({"priorty": 1})


@pytest.mark.parametrize("stored", ["Infinity", "-Infinity", "NaN"])
def test_a_non_finite_priority_node_wrote_becomes_null_as_in_json_stringify(offline_queue: Any, stored: Any) -> None:
    out = Job.from_hash(offline_queue, 3, {"type": "t", "data": "{}", "priority": stored}).to_json()
    assert out["priority"] is None
    assert json.loads(json.dumps(out, allow_nan=False))["priority"] is None


@pytest.mark.parametrize(
    "raw",
    [
        '{"i":1234}',
        '[1,"two",null]',
        "12",
        '"text"',
        ' {"a": 1} ',
        '{"a":1} extra',
        '{"a":1}{"b":2}',
        "NaN",
        '{"x":Infinity}',
        "",
        "not json",
        "\x0b{}",
        '{"a":',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_a_field_decodes_as_the_json_module_decodes_it(raw: str) -> None:
    """json_field's fast path (the C scanner, for compact JSON) says what json.loads with
    NaN as null says, and keeps the text of anything that is not JSON."""
    reference = json.JSONDecoder(parse_constant=lambda _: None)
    try:
        expected: Any = reference.decode(raw)
    except (ValueError, RecursionError):
        expected = raw
    assert json_field(raw) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("5", 5),
        ("-10", -10),
        ("1e3", 1000),
        ("5.7", 5),
        (" 7", 7),
        ("", None),
        (None, None),
        ("Infinity", None),
        ("NaN", None),
        ("abc", None),
        ("1_000", 1000),
        ("9007199254740993", 9007199254740992),  # past 2**53 a number reads as JavaScript's double
        ("1" * 400, None),  # past a double's range: as "Infinity"
    ],
)
def test_a_stored_number_reads_as_an_int(text: str | None, number: int | None) -> None:
    assert as_int(text) == number
