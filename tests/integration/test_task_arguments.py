"""A task call that does not fit the function is refused by ``delay`` itself, naming the
argument, before anything is saved: the worker would only meet it later as a TypeError,
retried with backoff, and ``job.wait()`` would time out instead of saying what was wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import redis

from pykue import InvalidJobError, Job, Queue
from tests.redis_probe import snapshot


@pytest.fixture
def tasks(queue: Queue) -> Any:
    class Tasks:
        @staticmethod
        @queue.task("email", attempts=5)
        def send_email(to: str, subject: str = "hello") -> dict[str, str]:
            return {"sent": to, "subject": subject}

        @staticmethod
        @queue.task("video", bind=True)
        def convert(job: Job, title: str) -> str:
            return title

        @staticmethod
        @queue.task("from-node")
        def from_node(**data: Any) -> Any:
            return data

        @staticmethod
        @queue.task("only-positional")
        def add(a: int, b: int, /) -> int:
            return a + b

    queue.create("seed", {}).save()  # q:ids exists: a refused call must not move it
    return Tasks


@pytest.mark.parametrize(
    ("call", "argument", "reason"),
    [
        (lambda t: t.send_email.delay(wrong_kw=1), "wrong_kw", "no such parameter"),
        (lambda t: t.send_email.delay(to="a", wrong_kw=1), "wrong_kw", "no such parameter"),
        (lambda t: t.send_email.delay("x", to="y"), "to", "both by position and by keyword"),
        (lambda t: t.send_email.delay(), "to", "missing"),
        (lambda t: t.send_email.delay(subject="s"), "to", "missing"),
        (lambda t: t.send_email.schedule(60, wrong_kw=1), "wrong_kw", "no such parameter"),
        (lambda t: t.send_email.with_options(attempts=1).delay(cc="b"), "cc", "no such parameter"),
        (lambda t: t.convert.delay(job="j", title="t"), "job", "no such parameter"),
        (lambda t: t.convert.delay(), "title", "missing"),
        (lambda t: t.add.delay(a=1, b=2), "a", "no such parameter"),
    ],
)
def test_a_call_that_does_not_fit_is_refused_naming_the_argument(
    tasks: Any, client: redis.Redis, call: Any, argument: str, reason: str
) -> None:
    before = snapshot(client)
    with pytest.raises(InvalidJobError) as info:
        call(tasks)
    assert info.value.field == "argument" and info.value.value == argument
    assert repr(argument) in str(info.value) and reason in str(info.value)
    assert snapshot(client) == before


def test_too_many_positional_arguments_are_refused(tasks: Any, client: redis.Redis) -> None:
    before = snapshot(client)
    with pytest.raises(InvalidJobError, match=r"invalid args \['a', 'b', 'c'\]: the task takes at most 2"):
        tasks.send_email.delay("a", "b", "c")
    assert snapshot(client) == before


def test_one_bad_call_in_delay_many_saves_none(tasks: Any, client: redis.Redis) -> None:
    before = snapshot(client)
    with pytest.raises(InvalidJobError, match="'tO'"):
        tasks.send_email.delay_many([{"to": "a"}, (("b",), {}), {"tO": "c"}])
    assert snapshot(client) == before


def test_calls_that_fit_are_saved_as_the_worker_will_call_them(tasks: Any, queue: Queue) -> None:
    assert tasks.send_email.delay("a").data == {"args": ["a"]}
    assert tasks.send_email.delay(to="a", subject="s").data == {"to": "a", "subject": "s"}
    assert tasks.add.delay(1, 2).data == {"args": [1, 2]}
    assert tasks.convert.delay(title="t").data == {"title": "t"}
    assert len(tasks.send_email.delay_many([{"to": "a"}, (("b",), {"subject": "s"})])) == 2


def test_a_task_taking_data_accepts_any_keywords(tasks: Any) -> None:
    job = tasks.from_node.delay(anything=1, **{"odd-key": [1]})
    assert job.data == {"anything": 1, "odd-key": [1]}


def test_data_that_is_not_json_is_refused_naming_its_path(tasks: Any, client: redis.Redis) -> None:
    before = snapshot(client)
    when = dt.datetime(2026, 1, 1)
    with pytest.raises(InvalidJobError) as info:
        tasks.from_node.delay(user={"born": when})
    assert info.value.field == "data.user.born" and info.value.value == when
    assert "a datetime is not JSON" in str(info.value)
    with pytest.raises(InvalidJobError) as info:
        tasks.send_email.delay("a", {"cc": {"b"}})
    assert info.value.field == "data.args[1].cc"
    assert snapshot(client) == before


def test_workflow_steps_are_checked_with_their_parents_result_first(queue: Queue, client: redis.Redis) -> None:
    from pykue.canvas import chain

    @queue.task("add")
    def add(a: int, b: int) -> int:
        return a + b

    queue.create("seed", {}).save()
    before = snapshot(client)
    for bad, argument in ((chain(add.s(1, 2), add.s(1, 2)), "args"), (chain(add.s(1, 2), add.si(3)), "argument")):
        with pytest.raises(InvalidJobError) as info:
            bad.delay()
        assert info.value.field == argument
    assert snapshot(client) == before
    assert chain(add.s(1, 2), add.s(4), add.si(5, 6)).delay().id  # add(3, 4), then add(5, 6)
