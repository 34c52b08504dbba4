"""Log lines: %-formatting like Kue's util.format, and readable renderings of values."""
from __future__ import annotations

import pytest

from pykue.job import render_log


@pytest.mark.parametrize("fmt,args,line", [
    ("this is %s number %d", ("test", 1), "this is test number 1"),
    ("plain text", (), "plain text"),
    ("100% sure", (), "100% sure"),
    ("%d%% done", (50,), "50% done"),
    ("%.2f s", (1.5,), "1.50 s"),
    ("a %s", ("x", "y"), "a x y"),                       # extra arguments appended
    ("%s and %s", ("a",), "a and %s"),                   # missing arguments leave the placeholder
    ("%j!", ({"a": [1, None]},), '{"a": [1, null]}!'),  # util.format's %j is JSON
    ("%d items", ("many",), "NaN items"),
    ("%s %s", ("a", {"k": True}, None), 'a {"k": true} null'),
    ("%s", (None,), "None"),
])
def test_format_strings(fmt, args, line):
    assert render_log(fmt, args) == line


@pytest.mark.parametrize("value,line", [
    ({"a": 1}, '{"a": 1}'),
    ([1, "two", None], '[1, "two", null]'),
    (None, "null"),
    (True, "true"),
    (False, "false"),
    (123, "123"),
    (1.23, "1.23"),
    (0, "0"),
    (float("nan"), "NaN"),
    (float("inf"), "Infinity"),
    (ValueError("bad thing"), "ValueError: bad thing"),
    ("<b>html</b>", "<b>html</b>"),
])
def test_single_values(value, line):
    assert render_log(value, ()) == line


def test_non_string_first_argument_joins_everything():
    assert render_log({"a": 1}, ("x", 2, None)) == '{"a": 1} x 2 null'


def test_unserialisable_objects_still_render():
    line = render_log({"when": object()}, ())
    assert line.startswith('{"when": "<object object at')
