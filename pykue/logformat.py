"""Log lines as Kue stores them: Node's ``util.format`` and, for objects, ``util.inspect``.

Node Kue and its dashboard show these lines, so ``job.log("sent", {"to": "tj"})`` stores
``sent { to: 'tj' }`` exactly as ``job.log('sent', {to: 'tj'})`` does in Kue. Python's
``%5.2f``-style flags and ``%r`` work too. Not ported: Node's column grouping of arrays
longer than six items and its truncation after 100.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PLACEHOLDER = re.compile(r"%(?:%|([-+ #0]*\d*(?:\.\d+)?)([sdifjoOr]))")
_NUMERIC_PREFIX = re.compile(r"\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Infinity)")
_INT_PREFIX = re.compile(r"\s*[+-]?\d+")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\\": "\\\\"}
BREAK_LENGTH = 80
DEPTH = 2


def render_log(fmt: Any, args: tuple[Any, ...]) -> str:
    """``util.format(fmt, *args)``: placeholders are filled left to right, a placeholder
    without an argument stays as written, extra arguments are appended after a space."""
    if not isinstance(fmt, str):
        return " ".join(_plain(part) for part in (fmt, *args))
    if not args:
        return fmt
    rest = list(args)

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        if not rest:
            return match.group(0)
        return _placeholder(match.group(1), match.group(2), rest.pop(0))

    text = _PLACEHOLDER.sub(substitute, fmt)
    return " ".join([text, *(_plain(extra) for extra in rest)])


def _placeholder(spec: str, kind: str, value: Any) -> str:
    if kind in "dif":
        if value is None and kind == "d":
            return "0"  # Number(null)
        if kind in "if" and isinstance(value, str):  # parseInt/parseFloat read a numeric prefix
            prefix = (_INT_PREFIX if kind == "i" else _NUMERIC_PREFIX).match(value)
            value = prefix.group(0) if prefix else "nan"
        try:
            number = float(value)
        except (TypeError, ValueError):
            return "NaN"
        if not math.isfinite(number):
            return js_number(number)
        if kind == "i":
            number = float(math.trunc(number))
        if spec:
            return f"%{spec}{'f' if kind == 'f' else 'd'}" % (number if kind == "f" else int(number))
        return js_number(number)
    if kind == "j":
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return "[Circular]" if isinstance(value, (dict, list)) else "undefined"
    if kind == "r":
        text = repr(value)
    elif kind == "s" and isinstance(value, (dict, list, tuple)):
        text = inspect(value, max_depth=0)  # util.format's %s looks one level deep
    else:
        text = _plain(value)
    return f"%{spec}s" % text if spec else text


def _plain(value: Any) -> str:
    """A top-level argument: strings as they are, everything else inspected."""
    return value if isinstance(value, str) else inspect(value)


def js_number(number: float | int) -> str:
    if isinstance(number, int):
        return str(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(number))


def inspect(value: Any, depth: int = 0, indent: int = 0, max_depth: int = DEPTH) -> str:
    """Node's ``util.inspect`` for JSON-like values (no colours, depth 2, breakLength 80)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, str):
        return js_string(value) if depth else value
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, dict):
        items = [f"{_key(k)}: {inspect(v, depth + 1, indent + 2, max_depth)}" for k, v in value.items()]
        return _braced("{", "}", items, "[Object]", depth > max_depth, indent)
    if isinstance(value, (list, tuple)):
        items = [inspect(v, depth + 1, indent + 2, max_depth) for v in value]
        return _braced("[", "]", items, "[Array]", depth > max_depth, indent)
    return str(value) if depth == 0 else js_string(str(value))


def _braced(open_: str, close: str, items: list[str], hidden: str, too_deep: bool, indent: int) -> str:
    if not items:
        return open_ + close
    if too_deep:
        return hidden
    start = len(items) + indent + len(open_) + 10
    if len(items) + start + sum(map(len, items)) <= BREAK_LENGTH and not any("\n" in i for i in items):
        return f"{open_} {', '.join(items)} {close}"
    pad = " " * indent
    return f"{open_}\n{pad}  " + f",\n{pad}  ".join(items) + f"\n{pad}{close}"


def _key(key: Any) -> str:
    text = str(key)
    return text if _IDENTIFIER.match(text) else js_string(text)


def js_string(text: str) -> str:
    quote = "'"
    if "'" in text:
        if '"' not in text:
            quote = '"'
        elif "`" not in text and "${" not in text:
            quote = "`"
    escaped = "".join(_ESCAPES.get(c) or (f"\\x{ord(c):02X}" if ord(c) < 0x20 else c) for c in text)
    return quote + escaped.replace(quote, "\\" + quote) + quote
