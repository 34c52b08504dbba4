"""Log lines: Kue stores Node's util.format rendering; pykue stores the same text."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from pykue.logformat import render_log


@pytest.mark.parametrize(
    "fmt,args,line",
    [
        ("this is %s number %d", ("test", 1), "this is test number 1"),
        ("plain text", (), "plain text"),
        ("100% sure", (), "100% sure"),
        ("%d%% done", (50,), "50% done"),
        ("a %s", ("x", "y"), "a x y"),  # extra arguments appended
        ("%s and %s", ("a",), "a and %s"),  # a placeholder without argument stays
        ("%j!", ({"a": [1, None]},), '{"a":[1,null]}!'),  # %j is compact JSON
        ("%d items", ("many",), "NaN items"),
        ("%d", (1.5,), "1.5"),
        ("%i", (1.9,), "1"),
        ("%s %s", ("a", {"k": True}, None), "a { k: true } null"),
        ("%s", ({"a": {"b": 1}},), "{ a: [Object] }"),  # %s looks one level deep
        ("%s", (None,), "null"),
        ("%.2f s", (1.5,), "1.50 s"),  # Python flags work as well
        ("%r", ("x",), "'x'"),
    ],
)
def test_format_strings(fmt: Any, args: Any, line: Any) -> None:
    assert render_log(fmt, args) == line


@pytest.mark.parametrize(
    "value,line",
    [
        ({"a": 1, "b": "x"}, "{ a: 1, b: 'x' }"),
        ([1, "two", None], "[ 1, 'two', null ]"),
        ({}, "{}"),
        ({"c-d": True, "e": "l\nine"}, "{ 'c-d': true, e: 'l\\nine' }"),
        ({"a": {"b": {"c": {"d": 1}}}}, "{ a: { b: { c: [Object] } } }"),
        ({"k": "it's"}, '{ k: "it\'s" }'),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (123, "123"),
        (1.23, "1.23"),
        (1.0, "1"),
        (0, "0"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (ValueError("bad thing"), "ValueError: bad thing"),
        ("<b>html</b>", "<b>html</b>"),
    ],
)
def test_single_values(value: Any, line: Any) -> None:
    assert render_log(value, ()) == line


def test_long_objects_break_over_lines_like_node() -> None:
    assert render_log({"long key": "x" * 80}, ()) == "{\n  'long key': '" + "x" * 80 + "'\n}"


def test_non_string_first_argument_joins_everything() -> None:
    assert render_log({"a": 1}, ("x", 2, None)) == "{ a: 1 } x 2 null"


NODE_CASES: list[list[Any]] = [
    ["this is %s number %d", "test", 1],
    [{"a": 1, "b": "x"}],
    ["sent", {"to": "tj"}],
    ["%s", [1, [2, [3]]]],
    [{"nested": {"list": [1, 2, {"deep": {"deeper": 1}}]}}],
    [{"x": "y" * 30, "z": "w" * 30}],
    ["%i", "42px"],
    ["%f", "3.5abc"],
    ["%d", None],
    [{"q": "both ' and \""}],
    [1e21],
    [1e-7],
    ["%%s %s", "x"],
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_same_text_as_node_util_format() -> None:
    script = (
        "const util=require('util');const c=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(c.map(a=>util.format(...a))))"
    )
    node = subprocess.run(
        ["node", "-e", script], input=json.dumps(NODE_CASES), capture_output=True, text=True, check=True, timeout=30
    ).stdout
    expected = json.loads(node)
    assert [render_log(case[0], tuple(case[1:])) for case in NODE_CASES] == expected
