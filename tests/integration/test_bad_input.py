"""Bad input is refused with a ValueError subclass naming the field and value, before any write.

"Nothing written" is checked on the whole keyspace, and `q:ids` must not move: a rejected job
consumes no id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import redis

from pykue import InvalidJobError, InvalidStateError, PykueError, Queue
from tests.redis_probe import snapshot
from tests.redis_server import RedisServer


@pytest.fixture
def seeded(queue: Queue, client: redis.Redis) -> dict[str, Any]:
    """One saved job, so q:ids exists; returns the keyspace as it was."""
    queue.create("seed", {"n": 0}).save()
    return snapshot(client)


def check(error: BaseException, field: str, value: object) -> None:
    assert isinstance(error, ValueError) and isinstance(error, PykueError)
    assert isinstance(error, InvalidJobError)
    assert error.field == field
    assert field in str(error)
    assert repr(value) in str(error)


@pytest.mark.parametrize("bad", ["urgent", "", None, 2.5, True, "10.5", 2**53, -(2**53), 10**30])
def test_unknown_priorities(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").priority(bad).save()
    check(info.value, "priority", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3", None, True, 2**53, 10**30])
def test_bad_attempts(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").attempts(bad).save()
    check(info.value, "attempts", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    "bad",
    [
        -1,
        -0.5,
        "100",
        float("nan"),
        float("inf"),
        dt.timedelta(seconds=-1),
        True,
        2**52 + 1,
        10**30,
        dt.timedelta(days=10**8),
    ],
)
def test_bad_delays(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").delay(bad).save()
    assert info.value.field == "delay" and isinstance(info.value, ValueError)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [-1, -100, "5000", float("nan"), None, 2**52 + 1, 10**30])
def test_bad_ttls(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").ttl(bad).save()
    check(info.value, "ttl", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["", "   ", None, 5, b"email", ["t"]])
def test_empty_or_non_string_types(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create(bad, {}).save()
    check(info.value, "type", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    ("bad", "path", "value"),
    [
        ({"x": float("nan")}, "data.x", float("nan")),
        ({"x": float("inf")}, "data.x", float("inf")),
        ([float("-inf")], "data[0]", float("-inf")),
        ({"when": dt.datetime(2020, 1, 1)}, "data.when", dt.datetime(2020, 1, 1)),
        ({"user": {"tags": ["a", {1, 2}]}}, "data.user.tags[1]", {1, 2}),
        ({"odd key": b"x"}, "data['odd key']", b"x"),
        ({"x": "\ud800"}, "data.x", "\ud800"),
        (object, "data", object),
        (b"bytes", "data", b"bytes"),
    ],
)
def test_non_json_data_is_refused_naming_the_path_to_the_bad_value(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any, path: str, value: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t", bad).save()
    check(info.value, path, value)
    assert snapshot(client) == seeded
    assert client.get("q:ids") == "1"


@pytest.mark.parametrize("bad", [{"type": "linear"}, {"type": "fixed", "delay": -5}, "function(){}", 3])
def test_bad_backoff(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").backoff(bad).save()
    check(info.value, "backoff", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["done", "", "Inactive", None])
def test_unknown_states(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    job = queue.get_job(1)
    for call in (
        lambda: job.set_state(bad),
        lambda: queue.count(bad),
        lambda: queue.state_ids(bad),
        lambda: queue.range_by_state(bad, 0, -1),
        lambda: queue.range_by_type("seed", bad, 0, -1),
    ):
        with pytest.raises(InvalidStateError) as info:
            call()
        check(info.value, "state", bad)
    assert snapshot(client) == seeded


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [980, 5000])
def test_data_nested_too_deeply_is_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], depth: Any
) -> None:
    # json.loads reads some of these (a web client may send them); json.dumps cannot write them
    with pytest.raises(InvalidJobError, match="data <list nested too deeply to show>: nested too deeply"):
        queue.create("t", nested(depth)).save()
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    ("setter", "bad"),
    # remove_on_complete also takes a count to keep (1) or {"age", "count"}: see test_retention.py
    [("events", bad) for bad in ("yes", 1, None, "false")]
    + [("remove_on_complete", bad) for bad in ("yes", -1, None, "false")],
)
def test_flags_take_only_booleans(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], setter: Any, bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        getattr(queue.create("t"), setter)(bad).save()
    check(info.value, setter, bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), 1e400, "Infinity"])
def test_kue_options_with_infinite_attempts_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options({"attempts": bad}).save()
    assert info.value.field == "attempts"
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [1, "t", ("t", {}, "extra"), (), None])
def test_create_many_names_an_item_that_is_not_a_job(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create_many([("t", {}), bad])
    check(info.value, "job", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_pause_and_resume_need_a_type(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    for call in (queue.pause, queue.resume):
        with pytest.raises(InvalidJobError) as info:
            call(bad)
        check(info.value, "type", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("start, stop", [("a", 1), (0, "1"), (0.5, 2), (None, 1), (True, 1)])
def test_ranges_need_integer_ranks(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], start: Any, stop: Any
) -> None:
    bad, field = (start, "start") if not isinstance(start, int) or isinstance(start, bool) else (stop, "stop")
    with pytest.raises(InvalidJobError) as info:
        queue.range(start, stop)
    check(info.value, field, bad)


def test_one_bad_job_in_create_many_writes_nothing(queue: Queue, client: redis.Redis, seeded: dict[str, Any]) -> None:
    good: list[Any] = [("t", {"i": i}) for i in range(5)]

    with pytest.raises(InvalidJobError) as info:
        queue.create_many(good + [("t", {"x": float("nan")})] + good)

    check(info.value, "data.x", float("nan"))
    assert snapshot(client) == seeded
    assert client.get("q:ids") == "1"


def test_one_bad_type_in_create_many_writes_nothing(queue: Queue, client: redis.Redis, seeded: dict[str, Any]) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create_many([("t", {}), ("", {}), ("t", {})])
    check(info.value, "type", "")
    assert snapshot(client) == seeded


def test_a_bad_prebuilt_job_in_a_large_batch_writes_nothing(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any]
) -> None:
    jobs = [queue.create("t", {"i": i}) for i in range(2500)]
    jobs[2400] = queue.create("t", {"bad": {1}})

    with pytest.raises(InvalidJobError):
        queue.save_jobs(jobs)

    assert snapshot(client) == seeded
    assert all(job.id is None for job in jobs)


def test_a_rejected_job_consumes_no_id(queue: Queue, client: redis.Redis, seeded: dict[str, Any]) -> None:
    with pytest.raises(InvalidJobError):
        queue.create("t", {"x": float("nan")}).save()

    job = queue.create("t").save()

    assert job.id == 2


def test_bad_ids_are_refused(queue: Queue, client: redis.Redis, seeded: dict[str, Any]) -> None:
    bads: tuple[Any, ...] = ("abc", 0, -3, None, True)
    for bad in bads:
        with pytest.raises(InvalidJobError) as info:
            queue.get_job(bad)
        check(info.value, "id", bad)
    assert snapshot(client) == seeded


def test_data_with_a_lone_surrogate_is_refused_before_anything_is_written(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any]
) -> None:
    with pytest.raises(InvalidJobError, match="data"):
        queue.create("t", {"name": "\ud800"}).save()
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    "options, field",
    [
        ({"concurrency": 0}, "concurrency"),
        ({"attempts": 0}, "attempts"),
        ({"attempts": 2**53}, "attempts"),
        ({"remove_on_complete": "yes"}, "remove_on_complete"),
        ({"priority": "urgent"}, "priority"),
    ],
)
def test_a_task_with_bad_options_is_refused_when_it_is_declared(queue: Queue, options: Any, field: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.task("t", **options)(lambda: None)
    assert info.value.field == field
    assert "t" not in queue.tasks


def test_with_options_validates_what_it_changes(queue: Queue) -> None:
    task = queue.task("t")(lambda: None)
    with pytest.raises(InvalidJobError) as info:
        task.with_options(remove_on_complete=-1)
    assert info.value.field == "remove_on_complete"


def test_kue_options_are_read_as_kue_reads_them(queue: Queue, client: redis.Redis) -> None:
    # Options that come through JavaScript: parseInt for attempts, numeric strings for ms
    job = (
        queue.create("t")
        .apply_kue_options({"attempts": "3.7", "delay": "250", "ttl": "5000", "removeOnComplete": "yes"})
        .save()
    )
    stored = client.hgetall(f"q:job:{job.id}")
    assert (stored["max_attempts"], stored["delay"], stored["ttl"], stored["removeOnComplete"]) == (
        "3",
        "250",
        "5000",
        "true",
    )
    # falsy options are not applied, as in Kue
    job = queue.create("t").apply_kue_options({"attempts": 0, "delay": 0, "ttl": "", "removeOnComplete": False})
    assert (job.attempts().max, job.delay(), job.ttl(), job.remove_on_complete()) == (1, None, None, False)


@pytest.mark.parametrize(
    "options, field",
    [
        ({"attempts": True}, "attempts"),
        ({"attempts": "three"}, "attempts"),
        ({"attempts": [3]}, "attempts"),
        ({"attempts": "-2"}, "attempts"),
        ({"ttl": "soon"}, "ttl"),
        ({"delay": "1e400"}, "delay"),
        ({"ttl": "-5"}, "ttl"),
    ],
)
def test_kue_options_kue_could_not_read_either_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], options: Any, field: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options(options).save()
    assert info.value.field == field
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["١", " 1", "0_1", "1.0", "+1", "²", "9" * 5000])
def test_ids_are_ascii_digits_only(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.get_job(bad)
    assert info.value.field == "id"


@pytest.mark.parametrize("bad", ["١", "٣", "1_0", "9" * 17])
def test_priorities_in_other_digits_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").priority(bad)
    check(info.value, "priority", bad)


@pytest.mark.parametrize("bad", ["١", "9" * 5000])
def test_kue_attempts_in_other_digits_or_too_long_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options({"attempts": bad}).save()
    assert info.value.field == "attempts"
    assert snapshot(client) == seeded


def test_a_type_with_a_lone_surrogate_is_refused(queue: Queue, client: redis.Redis, seeded: dict[str, Any]) -> None:
    with pytest.raises(InvalidJobError, match="lone surrogates"):
        queue.create("report-\udcff", {}).save()
    assert snapshot(client) == seeded


def test_stored_data_nested_too_deeply_or_holding_nan_reads_safely(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any]
) -> None:
    # What a Node or hand-made write can leave: JSON Python cannot nest that deep, and NaN tokens
    client.hset("q:job:1", mapping={"data": "[" * 100_000 + "]" * 100_000, "result": '{"x":NaN,"y":Infinity}'})
    job = queue.get_job(1)
    assert job.data == "[" * 100_000 + "]" * 100_000  # kept as its text, as any data that is not JSON
    assert job.result == {"x": None, "y": None}


# -- issue 14 item 4, and a sweep of the public API for the same kinds of value -------------------


class UnshowableRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


def names(error: BaseException, field: str, value: object) -> None:
    """InvalidJobError naming the field and the value (the start of a long repr)."""
    assert isinstance(error, InvalidJobError) and error.field == field
    assert str(error).startswith(f"invalid {field} {repr(value)[:60]}")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), 10**20, 10**1000, -1, True, "5", None])
def test_schedule_refuses_seconds_that_are_not_a_finite_span(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    task = queue.task("t")(lambda: None)
    with pytest.raises(InvalidJobError) as info:
        task.schedule(bad)
    names(info.value, "when", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("setter", ["delay", "ttl"])
@pytest.mark.parametrize("bad", [10**1000, -(10**1000), 10**20])
def test_delay_and_ttl_refuse_integers_too_large_for_a_float(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], setter: Any, bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        getattr(queue.create("t"), setter)(bad).save()
    names(info.value, setter, bad)
    assert snapshot(client) == seeded


def test_a_delay_at_a_naive_datetime_with_no_local_time_is_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any]
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").delay(dt.datetime.min).save()
    names(info.value, "delay", dt.datetime.min)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [5, [1], "a b".split(" ") + [None], {"k": "v"}])
def test_search_keys_must_be_strings_on_a_task_too(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    task = queue.task("t")(lambda: None)
    with pytest.raises(InvalidJobError) as info:
        task.with_options(search_keys=bad)
    names(info.value, "search_keys", bad)
    with pytest.raises(InvalidJobError) as info:
        queue.task("t2", search_keys=bad)(lambda: None)
    names(info.value, "search_keys", bad)
    assert "t2" not in queue.tasks
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [123, b"t", "", "   ", "t\ud800", ["t"]])
def test_a_task_type_that_is_not_text_is_refused_when_declared(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.task(bad)
    names(info.value, "type", bad)
    assert queue.tasks == {}
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    "options, field, value",
    [
        ({"ttl": -5}, "ttl", -5),
        ({"ttl": float("nan")}, "ttl", float("nan")),
        ({"delay": -1}, "delay", -1),
        ({"delay": 10**1000}, "delay", 10**1000),
        ({"backoff": {"type": "linear"}}, "backoff", {"type": "linear"}),
        ({"attempts": 10**1000}, "attempts", 10**1000),
        ({"priority": float("nan")}, "priority", float("nan")),
    ],
    ids=["ttl-5", "ttl-nan", "delay-1", "delay-1e1000", "backoff-linear", "attempts-1e1000", "priority-nan"],
)
def test_task_options_are_checked_when_declared_and_when_changed(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], options: Any, field: Any, value: Any
) -> None:
    if field != "delay":  # @queue.task takes no delay; with_options does
        with pytest.raises(InvalidJobError) as info:
            queue.task("t", **options)(lambda: None)
        names(info.value, field, value)
    task = queue.task("t")(lambda: None)
    with pytest.raises(InvalidJobError) as info:
        task.with_options(**options)
    names(info.value, field, value)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("options, field", [({"bind": "yes"}, "bind"), ({"concurrency": 10**1000}, "concurrency")])
def test_task_flags_and_counts_are_checked(queue: Queue, options: Any, field: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.task("t", **options)(lambda: None)
    names(info.value, field, options[field])


def test_a_task_must_be_callable(queue: Queue) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.task("t")(5)
    names(info.value, "fn", 5)
    assert "t" not in queue.tasks


@pytest.mark.parametrize(
    ("data", "path"), [({"x": UnshowableRepr()}, "data.x"), ([UnshowableRepr()], "data[0]"), (UnshowableRepr(), "data")]
)
def test_data_whose_repr_raises_still_gets_its_error(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], data: Any, path: str
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t", data).save()
    assert info.value.field == path
    assert str(info.value).startswith(f"invalid {path} <UnshowableRepr whose repr() raised RuntimeError>: ")
    assert snapshot(client) == seeded


def test_data_holding_an_integer_too_long_to_print_is_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any]
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t", {"n": 10**5000}).save()
    assert str(info.value).startswith("invalid data <dict holding an integer too long to show>: ")
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "fixed", "delay": 10**1000},
        {"type": "fixed", "delay": 2**60},
        {"type": "exponential", "maxDelay": 10**400},
        {"type": "fixed", 1: 2, "a": 3},
        {"type": "fixed", "delay": float("inf")},
    ],
)
def test_backoffs_kue_could_not_hold_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").backoff(bad).save()
    names(info.value, "backoff", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    "options, field",
    [
        ({"attempts": 10**1000}, "attempts"),
        ({"delay": 10**1000}, "delay"),
        ({"ttl": 10**1000}, "ttl"),
    ],
)
def test_kue_options_with_huge_integers_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], options: Any, field: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.create("t").apply_kue_options(options).save()
    names(info.value, field, options[field])
    assert snapshot(client) == seeded


@pytest.mark.parametrize("done, total", [(10**400, 100), (1e308, 1e-308), (-1e308, 1e-308), (10**400, 1)])
def test_progress_that_overflows_is_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], done: Any, total: Any
) -> None:
    job = queue.get_job(1)
    with pytest.raises(InvalidJobError) as info:
        job.progress(done, total)
    names(info.value, "progress", done)
    assert snapshot(client) == seeded


def test_progress_data_and_log_lines_with_a_lone_surrogate_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any]
) -> None:
    job = queue.get_job(1)
    with pytest.raises(InvalidJobError) as info:
        job.progress(5, 100, {"name": "\ud800"})
    names(info.value, "progress data.name", "\ud800")  # the path to the bad value
    for fmt, args in (("sent \udc00", ()), ("sent %s", ("\udc00",)), ({"to": "\ud800"}, ())):
        with pytest.raises(InvalidJobError) as info:
            job.log(fmt, *args)
        assert info.value.field == "log" and "\\ud" in str(info.value)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [10**19, 10**30, 10**5000, -(10**30)], ids=["1e19", "1e30", "1e5000", "-1e30"])
def test_ids_beyond_what_redis_counts_to_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    for call in (queue.get_job, queue.remove_job, lambda i: queue.get_jobs([1, i])):
        with pytest.raises(InvalidJobError) as info:
            call(bad)
        assert info.value.field == "id"
        assert str(info.value).startswith("invalid id " + (repr(bad)[:60] if bad != 10**5000 else "<int holding"))
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [None, "abc", True, 0, 1.0])
def test_get_jobs_refuses_what_is_not_an_id(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.get_jobs([1, bad])
    names(info.value, "id", bad)


@pytest.mark.parametrize(
    "call, field, bad",
    [
        (lambda q, v: q.create_many(v), "jobs", 5),
        (lambda q, v: q.create_many(v), "jobs", None),
        (lambda q, v: q.get_jobs(v), "ids", 5),
        (lambda q, v: q.get_jobs(v), "ids", "12"),
    ],
)
def test_collections_that_are_not_lists_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], call: Any, field: Any, bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        call(queue, bad)
    names(info.value, field, bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize(
    "calls, field, bad",
    [
        (5, "calls", 5),
        ("abc", "calls", "abc"),
        ([5], "call", 5),
        ([(1, 2)], "call", (1, 2)),
        ([({"a": 1}, {})], "call", ({"a": 1}, {})),
        ([{1: "x"}], "call", {1: "x"}),
        ([((), {}), ((), {}, {})], "call", ((), {}, {})),
    ],
)
def test_delay_many_names_a_call_it_cannot_make(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], calls: Any, field: Any, bad: Any
) -> None:
    task = queue.task("t")(lambda *a, **k: None)
    with pytest.raises(InvalidJobError) as info:
        task.delay_many(calls)
    names(info.value, field, bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", [5, "\ud800", ["t"]])
def test_type_filters_must_be_job_types(queue: Queue, client: redis.Redis, seeded: dict[str, Any], bad: Any) -> None:
    for call in (
        lambda: queue.count("inactive", bad),
        lambda: queue.counts(bad),
        lambda: queue.range_by_type(bad, "inactive", 0, -1),
        lambda: queue.inactive_count(bad),
    ):
        with pytest.raises(InvalidJobError) as info:
            call()
        names(info.value, "type", bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("start, stop, field", [(0, 2**63, "stop"), (-(2**63) - 1, 1, "start"), (0, 10**30, "stop")])
def test_ranks_beyond_a_redis_integer_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], start: Any, stop: Any, field: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        queue.range(start, stop)
    names(info.value, field, start if field == "start" else stop)


@pytest.mark.parametrize(
    "call, field, bad",
    [
        (lambda q, v: q.search(v), "query", 5),
        (lambda q, v: q.setting(v), "setting", None),
        (lambda q, v: q.setting(v), "setting", "\ud800"),
        (lambda q, v: q.metrics(v), "minutes", float("nan")),
        (lambda q, v: q.metrics(v), "minutes", True),
        (lambda q, v: q.metrics(v), "minutes", 10**9),
        (lambda q, v: q.shutdown(v), "timeout", float("nan")),
        (lambda q, v: q.shutdown(v), "timeout", -1),
        (lambda q, v: q.on(v, print), "event", 5),
        (lambda q, v: q.on("job complete", v), "listener", "print"),
        (lambda q, v: q.get_job(1).on(v, print), "event", None),
        (lambda q, v: q.get_job(1).on("complete", v), "listener", 3),
        (lambda q, v: q.get_job(1).wait(v), "timeout", float("nan")),
        (lambda q, v: q.get_job(1).wait(v), "timeout", "1"),
    ],
)
def test_queue_and_job_arguments_of_the_wrong_kind_are_refused(
    queue: Queue, client: redis.Redis, seeded: dict[str, Any], call: Any, field: Any, bad: Any
) -> None:
    with pytest.raises(InvalidJobError) as info:
        call(queue, bad)
    names(info.value, field, bad)
    assert snapshot(client) == seeded


@pytest.mark.parametrize("bad", ["\ud800", "", 5, None])
def test_prefixes_redis_cannot_be_sent_are_refused(redis_server: RedisServer, client: redis.Redis, bad: Any) -> None:
    from pykue import Queue

    if bad is not None:  # None means $PYKUE_PREFIX or "q"
        with pytest.raises(InvalidJobError) as info:
            Queue(redis=redis_server.url, prefix=bad)
        names(info.value, "prefix", bad)
    queue = Queue(redis=redis_server.url, prefix="z")
    try:
        if bad:
            with pytest.raises(InvalidJobError) as info:
                queue.configure(prefix=bad)
            names(info.value, "prefix", bad)
        assert queue.prefix == "z"
    finally:
        queue.close()
    assert client.keys("*") == []
