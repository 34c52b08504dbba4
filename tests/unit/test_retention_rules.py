"""A stored retention rule read back: what the scripts do with it, and never an exception."""

from __future__ import annotations

import pytest

from pykue.retention import decode_keep


@pytest.mark.parametrize(
    ("stored", "rule"),
    [
        ("5:", 5),
        (":60000", {"age": 60.0}),
        ("5:60000", {"age": 60.0, "count": 5}),
        (None, False),
        ("", False),
        ("5", False),
    ],
)
def test_a_rule_pykue_wrote_reads_back(stored, rule) -> None:
    assert decode_keep(stored) == rule


@pytest.mark.parametrize("stored", ["²:", "٣:", "x:", "9" * 5000 + ":"])
def test_a_count_the_scripts_would_not_read_is_no_rule(stored) -> None:
    # non-ASCII digits (str.isdigit takes them, Lua's %d does not) and counts int() refuses
    assert decode_keep(stored) is False


def test_an_age_the_scripts_would_not_read_is_no_age() -> None:
    assert decode_keep("5:²") == {"age": 0, "count": 5}
    assert decode_keep("5:" + "9" * 5000) == {"age": 0, "count": 5}
