"""fields.py and the error text: every check names the value, and none raises a bare Python error."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any

import pytest

from pykue import InvalidJobError, InvalidStateError
from pykue.exceptions import shown
from pykue.fields import MAX_MS, Parameters, check_delay, check_ms, check_seconds, is_finite, is_number
from pykue.states import STATES


@pytest.mark.parametrize(
    "value, finite",
    [
        (0, True),
        (10**1000, True),
        (-(10**1000), True),
        (1.5, True),
        (float("nan"), False),
        (float("inf"), False),
        (True, False),
        ("1", False),
        (None, False),
    ],
)
def test_is_finite_takes_integers_of_any_size(value: Any, finite: Any) -> None:
    assert is_finite(value) is finite
    assert is_number(value) is (isinstance(value, (int, float)) and not isinstance(value, bool))


@pytest.mark.parametrize("value, ms", [(0, 0), (1.9, 1), (MAX_MS, MAX_MS), (dt.timedelta(seconds=1.5), 1500)])
def test_check_ms_returns_whole_milliseconds(value: Any, ms: Any) -> None:
    assert check_ms("ttl", value) == ms


@pytest.mark.parametrize(
    "bad", [MAX_MS + 1, 10**1000, -1, float("nan"), float("-inf"), True, "5", None, dt.timedelta(days=10**8)]
)
def test_check_ms_refuses_what_kue_cannot_add_to_a_timestamp(bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        check_ms("ttl", bad)
    assert str(info.value).startswith(f"invalid ttl {shown(bad)}: ")


def test_a_datetime_delay_is_the_time_until_it_and_none_once_past() -> None:
    assert check_delay(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)) == 0
    ahead = check_delay(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=60))
    assert 59_000 <= ahead <= 60_000
    with pytest.raises(InvalidJobError, match="no local time"):
        check_delay(dt.datetime.min)


def test_check_seconds_refuses_nan_and_negative() -> None:
    assert check_seconds("timeout", 2) == 2.0
    for bad in (float("nan"), -1, float("inf"), "1"):
        with pytest.raises(InvalidJobError):
            check_seconds("timeout", bad)


class BrokenRepr:
    def __repr__(self) -> str:
        raise KeyError("x")


@pytest.mark.parametrize(
    "value, text",
    [
        ("a" * 300, "'" + "a" * 199 + "... (302 characters)"),
        (BrokenRepr(), "<BrokenRepr whose repr() raised KeyError>"),
        ([10**5000], "<list holding an integer too long to show>"),
    ],
)
def test_shown_always_names_the_value(value: Any, text: Any) -> None:
    assert shown(value) == text


def test_the_state_error_lists_the_one_definition_of_the_states() -> None:
    error = InvalidStateError("done", STATES)
    assert str(error) == "invalid state 'done': expected one of inactive, active, complete, failed, delayed"


def _fns() -> list:
    def plain(to, subject="hi"): ...
    def keyword_only(*, to, cc=None): ...
    def data(**data): ...
    def mixed(a, /, b, *rest, c, **more): ...
    def some_data(to, **data): ...

    return [plain, keyword_only, data, mixed, some_data]


CALLS = [
    ((), {}),
    ((), {"to": "a"}),
    ((), {"to": "a", "subject": "s"}),
    ((), {"to": "a", "wrong": 1}),
    ((), {"subject": "s"}),
    (("a",), {}),
    (("a",), {"to": "b"}),
    (("a", "b", "c"), {}),
    ((1, 2), {"c": 3}),
    ((1,), {"b": 2, "c": 3, "d": 4}),
    ((), {"a": 1, "b": 2, "c": 3}),
]


@pytest.mark.parametrize("fn", _fns(), ids=lambda fn: fn.__name__)
def test_a_task_call_is_refused_exactly_when_python_would_refuse_it(fn) -> None:
    """The shortcut for calls that fit never lets through one that Python's bind refuses."""
    signature = inspect.signature(fn)
    parameters = Parameters(signature)
    for args, kwargs in CALLS:
        try:
            signature.bind(*args, **kwargs)
            fits = True
        except TypeError:
            fits = False
        try:
            parameters.check("t", args, kwargs)
            accepted = True
        except InvalidJobError:
            accepted = False
        assert accepted == fits, (fn.__name__, args, kwargs)
