"""states.py: the five states and Kue's priority map; invalid values are refused, never stored raw."""

from __future__ import annotations

from typing import Any

import pytest

from pykue import PRIORITIES, InvalidJobError, InvalidStateError, JobState, PykueError
from pykue.states import STATES, check_state, priority_name, priority_value


def test_priority_map_is_kues() -> None:
    assert PRIORITIES == {"low": 10, "normal": 0, "medium": -5, "high": -10, "critical": -15}


@pytest.mark.parametrize(
    "given,value",
    [
        ("low", 10),
        ("normal", 0),
        ("medium", -5),
        ("high", -10),
        ("critical", -15),
        (0, 0),
        (-15, -15),
        (1000, 1000),
        ("7", 7),
        (" -3 ", -3),
        (2**53 - 1, 2**53 - 1),
        (str(-(2**53) + 1), -(2**53) + 1),
    ],
)
def test_priority_value(given: Any, value: Any) -> None:
    assert priority_value(given) == value


@pytest.mark.parametrize(
    "bad", ["urgent", "HIGH", "", "1.5", 1.5, None, True, False, [1], {"p": 1}, 2**53, -(2**53), "1" + "0" * 40]
)
def test_invalid_priorities_raise_a_value_error_naming_field_and_value(bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        priority_value(bad)
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error, PykueError)
    assert error.field == "priority" and error.value == bad
    assert "priority" in str(error) and repr(bad) in str(error)


def test_priority_name() -> None:
    assert priority_name(-10) == "high"
    assert priority_name(3) is None


def test_states_in_kue_order() -> None:
    assert STATES == ("inactive", "active", "complete", "failed", "delayed")
    assert [str(s) for s in JobState] == list(STATES)
    assert JobState.FAILED == "failed"  # type: ignore[comparison-overlap]  # a str Enum equals its value


@pytest.mark.parametrize("state", list(STATES) + list(JobState))
def test_check_state_accepts_names_and_enum(state: Any) -> None:
    assert check_state(state) == str(state)
    assert type(check_state(state)) is str


@pytest.mark.parametrize("bad", ["done", "Inactive", "", None, 1, ["active"]])
def test_check_state_refuses_anything_else(bad: Any) -> None:
    with pytest.raises(InvalidStateError) as info:
        check_state(bad)
    assert isinstance(info.value, ValueError)
    assert info.value.field == "state"
    assert repr(bad) in str(info.value)
