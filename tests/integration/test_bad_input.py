"""Bad input is refused with a ValueError subclass naming the field and value, before any write.

"Nothing written" is checked on the whole keyspace, and `q:ids` must not move: a rejected job
consumes no id.
"""
from __future__ import annotations

import datetime as dt

import pytest

from pykue import InvalidJobError, InvalidStateError, PykueError
from tests.redis_probe import snapshot


@pytest.fixture
def seeded(queue, client):
    """One saved job, so q:ids exists; returns the keyspace as it was."""
    queue.create("seed", {"n": 0}).save()
    return snapshot(client)


def check(error: BaseException, field: str, value: object) -> None:
    assert isinstance(error, ValueError) and isinstance(error, PykueError)
    assert isinstance(error, InvalidJobError)
    assert error.field == field
    assert field in str(error)
    assert repr(value) in str(error)


@pytest.mark.parametrize("bad", ["urgent", "", None, 2.5, True, "10.5", 2**53, -2**53, 10**30])
def test_unknown_priorities(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").priority(bad).save()
    check(info.value, "priority", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3", None, True, 2**53, 10**30])
def test_bad_attempts(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").attempts(bad).save()
    check(info.value, "attempts", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [-1, -0.5, "100", float("nan"), float("inf"), dt.timedelta(seconds=-1), True,
                                 2**52 + 1, 10**30, dt.timedelta(days=10**8)])
def test_bad_delays(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").delay(bad).save()
    assert info.value.field == "delay" and isinstance(info.value, ValueError)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [-1, -100, "5000", float("nan"), None, 2**52 + 1, 10**30])
def test_bad_ttls(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").ttl(bad).save()
    check(info.value, "ttl", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["", "   ", None, 5, b"email", ["t"]])
def test_empty_or_non_string_types(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create(bad, {}).save()
    check(info.value, "type", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [
    {"x": float("nan")}, {"x": float("inf")}, [float("-inf")], {"when": dt.datetime(2020, 1, 1)},
    {"s": {1, 2}}, object(), b"bytes",
])
def test_non_json_data(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t", bad).save()
    check(info.value, "data", bad)
    assert snapshot(client) == seeded
    assert client.get("q:ids") == "1"


@pytest.mark.parametrize("bad", [{"type": "linear"}, {"type": "fixed", "delay": -5}, "function(){}", 3])
def test_bad_backoff(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").backoff(bad).save()
    check(info.value, "backoff", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["done", "", "Inactive", None])
def test_unknown_states(queue, client, seeded, bad):
    job = queue.get_job(1)
    for call in (lambda: job.set_state(bad), lambda: queue.count(bad), lambda: queue.state_ids(bad),
                 lambda: queue.range_by_state(bad, 0, -1), lambda: queue.range_by_type("seed", bad, 0, -1)):
        with pytest.raises(InvalidStateError) as info:
            call()
        check(info.value, "state", bad)
    assert snapshot(client) == seeded


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [980, 5000])
def test_data_nested_too_deeply_is_refused(queue, client, seeded, depth):
    # json.loads reads some of these (a web client may send them); json.dumps cannot write them
    with pytest.raises(InvalidJobError, match="data <list nested too deeply to show>: nested too deeply"):
        queue.create("t", nested(depth)).save()
    assert snapshot(client) == seeded


@pytest.mark.parametrize("setter", ["remove_on_complete", "events"])
@pytest.mark.parametrize("bad", ["yes", 1, None, "false"])
def test_flags_take_only_booleans(queue, client, seeded, setter, bad):
    with pytest.raises(InvalidJobError) as info:
        getattr(queue.create("t"), setter)(bad).save()
    check(info.value, setter, bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), 1e400, "Infinity"])
def test_kue_options_with_infinite_attempts_are_refused(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options({"attempts": bad}).save()
    assert info.value.field == "attempts"
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [1, "t", ("t", {}, "extra"), (), None])
def test_create_many_names_an_item_that_is_not_a_job(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create_many([("t", {}), bad])
    check(info.value, "job", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_pause_and_resume_need_a_type(queue, client, seeded, bad):
    for call in (queue.pause, queue.resume):
        with pytest.raises(InvalidJobError) as info:
            call(bad)
        check(info.value, "type", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("start, stop", [("a", 1), (0, "1"), (0.5, 2), (None, 1), (True, 1)])
def test_ranges_need_integer_ranks(queue, client, seeded, start, stop):
    bad, field = (start, "start") if not isinstance(start, int) or isinstance(start, bool) else (stop, "stop")
    with pytest.raises(InvalidJobError) as info:
        queue.range(start, stop)
    check(info.value, field, bad)


def test_one_bad_job_in_create_many_writes_nothing(queue, client, seeded):
    good = [("t", {"i": i}) for i in range(5)]

    with pytest.raises(InvalidJobError) as info:
        queue.create_many(good + [("t", {"x": float("nan")})] + good)

    check(info.value, "data", {"x": float("nan")})
    assert snapshot(client) == seeded
    assert client.get("q:ids") == "1"


def test_one_bad_type_in_create_many_writes_nothing(queue, client, seeded):
    with pytest.raises(InvalidJobError) as info:
        queue.create_many([("t", {}), ("", {}), ("t", {})])
    check(info.value, "type", "")
    assert snapshot(client) == seeded


def test_a_bad_prebuilt_job_in_a_large_batch_writes_nothing(queue, client, seeded):
    jobs = [queue.create("t", {"i": i}) for i in range(2500)]
    jobs[2400] = queue.create("t", {"bad": {1}})

    with pytest.raises(InvalidJobError):
        queue.save_jobs(jobs)

    assert snapshot(client) == seeded
    assert all(job.id is None for job in jobs)


def test_a_rejected_job_consumes_no_id(queue, client, seeded):
    with pytest.raises(InvalidJobError):
        queue.create("t", {"x": float("nan")}).save()

    job = queue.create("t").save()

    assert job.id == 2


def test_bad_ids_are_refused(queue, client, seeded):
    for bad in ("abc", 0, -3, None, True):
        with pytest.raises(InvalidJobError) as info:
            queue.get_job(bad)
        check(info.value, "id", bad)
    assert snapshot(client) == seeded


def test_data_with_a_lone_surrogate_is_refused_before_anything_is_written(queue, client, seeded):
    with pytest.raises(InvalidJobError, match="data"):
        queue.create("t", {"name": "\ud800"}).save()
    assert snapshot(client) == seeded


@pytest.mark.parametrize("options, field", [
    ({"concurrency": 0}, "concurrency"), ({"attempts": 0}, "attempts"), ({"attempts": 2**53}, "attempts"),
    ({"remove_on_complete": "yes"}, "remove_on_complete"), ({"priority": "urgent"}, "priority"),
])
def test_a_task_with_bad_options_is_refused_when_it_is_declared(queue, options, field):
    with pytest.raises(InvalidJobError) as info:
        queue.task("t", **options)(lambda: None)
    assert info.value.field == field
    assert "t" not in queue.tasks


def test_with_options_validates_what_it_changes(queue):
    task = queue.task("t")(lambda: None)
    with pytest.raises(InvalidJobError) as info:
        task.with_options(remove_on_complete=1)
    assert info.value.field == "remove_on_complete"


def test_kue_options_are_read_as_kue_reads_them(queue, client):
    # Options that come through JavaScript: parseInt for attempts, numeric strings for ms
    job = queue.create("t").apply_kue_options({"attempts": "3.7", "delay": "250", "ttl": "5000",
                                               "removeOnComplete": "yes"}).save()
    stored = client.hgetall(f"q:job:{job.id}")
    assert (stored["max_attempts"], stored["delay"], stored["ttl"], stored["removeOnComplete"]) == (
        "3", "250", "5000", "true")
    # falsy options are not applied, as in Kue
    job = queue.create("t").apply_kue_options({"attempts": 0, "delay": 0, "ttl": "", "removeOnComplete": False})
    assert (job.attempts().max, job.delay(), job.ttl(), job.remove_on_complete()) == (1, None, None, False)


@pytest.mark.parametrize("options, field", [
    ({"attempts": True}, "attempts"), ({"attempts": "three"}, "attempts"), ({"attempts": [3]}, "attempts"),
    ({"attempts": "-2"}, "attempts"), ({"ttl": "soon"}, "ttl"), ({"delay": "1e400"}, "delay"),
    ({"ttl": "-5"}, "ttl"),
])
def test_kue_options_kue_could_not_read_either_are_refused(queue, client, seeded, options, field):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options(options).save()
    assert info.value.field == field
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["١", " 1", "0_1", "1.0", "+1", "²", "9" * 5000])
def test_ids_are_ascii_digits_only(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.get_job(bad)
    assert info.value.field == "id"


@pytest.mark.parametrize("bad", ["١", "٣", "1_0", "9" * 17])
def test_priorities_in_other_digits_are_refused(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").priority(bad)
    check(info.value, "priority", bad)


@pytest.mark.parametrize("bad", ["١", "9" * 5000])
def test_kue_attempts_in_other_digits_or_too_long_are_refused(queue, client, seeded, bad):
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options({"attempts": bad}).save()
    assert info.value.field == "attempts"
    assert snapshot(client) == seeded


def test_a_type_with_a_lone_surrogate_is_refused(queue, client, seeded):
    with pytest.raises(InvalidJobError, match="lone surrogates"):
        queue.create("report-\udcff", {}).save()
    assert snapshot(client) == seeded


def test_stored_data_nested_too_deeply_or_holding_nan_reads_safely(queue, client, seeded):
    # What a Node or hand-made write can leave: JSON Python cannot nest that deep, and NaN tokens
    client.hset("q:job:1", mapping={"data": "[" * 100_000 + "]" * 100_000, "result": '{"x":NaN,"y":Infinity}'})
    job = queue.get_job(1)
    assert job.data == "[" * 100_000 + "]" * 100_000  # kept as its text, as any data that is not JSON
    assert job.result == {"x": None, "y": None}
