"""Kue's vocabulary: the five states and the named priority levels."""

from __future__ import annotations

import re
from enum import Enum

from .exceptions import InvalidJobError, InvalidStateError
from .fields import JS_MAX_SAFE_INTEGER


class JobState(str, Enum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    COMPLETE = "complete"
    FAILED = "failed"
    DELAYED = "delayed"

    def __str__(self) -> str:
        return self.value


STATES = tuple(s.value for s in JobState)

PRIORITIES: dict[str, int] = {"low": 10, "normal": 0, "medium": -5, "high": -10, "critical": -15}
MAX_PRIORITY = JS_MAX_SAFE_INTEGER  # Kue reads priorities as JS numbers, Redis scores them as doubles


def check_state(state: object) -> str:
    value = state.value if isinstance(state, JobState) else state
    if value not in STATES:
        raise InvalidStateError(state, STATES)
    return str(value)


def priority_value(priority: object) -> int:
    """A priority name or integer -> Kue's integer; anything else is refused, never stored raw."""
    value: int | None = None
    if isinstance(priority, str):
        if priority in PRIORITIES:
            return PRIORITIES[priority]
        if re.fullmatch(r"[+-]?[0-9]{1,16}", priority.strip()):  # ASCII digits: int() also reads "١"
            value = int(priority.strip())
    elif isinstance(priority, int) and not isinstance(priority, bool):
        value = priority
    if value is not None and -MAX_PRIORITY <= value <= MAX_PRIORITY:
        return value
    names = ", ".join(PRIORITIES)
    raise InvalidJobError(
        "priority", priority, f"expected an integer from -{MAX_PRIORITY} to {MAX_PRIORITY} or one of {names}"
    )


def priority_name(value: int) -> str | None:
    for name, number in PRIORITIES.items():
        if number == value:
            return name
    return None
