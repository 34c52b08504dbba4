"""Retention rules (``remove_on_complete``, ``remove_on_fail``) as a job hash stores them.

``True`` for a completed job is Kue's own ``removeOnComplete`` field, so a Node Kue worker
honours it too; a count or an age is pykue's (``pykue_keep_complete`` and
``pykue_keep_failed``, as ``"<count>:<age ms>"`` with either part empty), applied by the
complete and fail scripts (scripts/includes/finish.lua): the job is indexed by its finish
time and the oldest of its type beyond the rule are removed, a bounded number per call.
"""

from __future__ import annotations

from typing import Any

Rule = bool | int | dict[str, Any]


def is_set(rule: Rule | None) -> bool:
    """A rule was given (``False`` is one: keep every job; ``0`` is one too: keep none)."""
    return rule is not None and rule is not False


def encode_keep(rule: Rule | None) -> str:
    """The stored form of a rule checked by ``fields.check_retention``; "" keeps every job.
    ``True`` keeps none (a completed job's True is stored as Kue's field instead)."""
    if rule is None or rule is False:
        return ""
    if rule is True:
        return "0:"
    if isinstance(rule, int):
        return f"{rule}:"
    count = rule.get("count")
    age = rule.get("age")
    return f"{'' if count is None else count}:{'' if age is None else int(age * 1000)}"


def decode_keep(text: str | None) -> Rule:
    """A stored rule read back (what a job's ``remove_on_complete()`` answers)."""
    if not text or ":" not in text:
        return False
    count_text, age_text = text.split(":", 1)
    count, age = _stored_digits(count_text), _stored_digits(age_text)
    if not age_text:
        return count if count is not None else False
    rule: dict[str, Any] = {"age": age / 1000 if age is not None else 0}
    if count is not None:
        rule["count"] = count
    return rule


def _stored_digits(text: str) -> int | None:
    """The number a stored rule's part holds, as the scripts read it (ASCII digits only,
    ``%d`` in Lua), or None: a hand-edited or foreign value must not fail the job that holds it."""
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() takes from text
        return None
