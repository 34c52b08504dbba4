"""The Lua transitions as Redis runs them: ``scripts/<name>.lua`` with its includes inlined.

A line ``--- @include "name"`` inlines ``scripts/includes/name.lua``, once per script (an
include may include others); the SHA1 is computed here, so registering a script costs no
round trip (the transport loads it when Redis answers NOSCRIPT).

A hot script (one run per job) is also written as a Redis Functions library (Redis 7+),
which the transport calls with FCALL where the server allows it: an EVALSHA runs the whole
inlined source on every call, defining its includes' dozens of functions and leaving them to
the garbage collector (10-30 us of Redis per call, measured in docs/benchmarks.md), while a
library defines them once, when it is loaded. The library's name carries its code's SHA1,
so processes of two pykue versions sharing one Redis each find their own.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

SCRIPT_DIR = Path(__file__).with_name("scripts")
_INCLUDE = re.compile(r'^--- @include "([\w-]+)"\s*$', re.M)
_RESET = re.compile(r"^local function (reset_\w+)\(\)", re.M)
_HEADER = re.compile(r"\A--\[\[.*?\]\]\n", re.S)
_COMMENT_LINE = re.compile(r"^\s*--.*\n", re.M)


def _inline(text: str, seen: set[str]) -> str:
    def inline(match: re.Match[str]) -> str:
        include = match.group(1)
        if include in seen:
            return ""
        seen.add(include)
        return _INCLUDE.sub(inline, (SCRIPT_DIR / "includes" / f"{include}.lua").read_text())

    return _INCLUDE.sub(inline, text)


@cache
def source(name: str) -> str:
    return _inline((SCRIPT_DIR / f"{name}.lua").read_text(), set())


@cache
def library(name: str, function: str) -> str:
    """``name`` as a Functions library registering ``function``: its includes at the top level
    (run once, at FUNCTION LOAD), its body as the function. KEYS and ARGV become locals the
    function sets on each call, so the includes that read them work unchanged; an include's
    per-call state is reset by its ``local function reset_<what>()``, called first on each call
    (under EVALSHA each call starts afresh anyway)."""
    text = (SCRIPT_DIR / f"{name}.lua").read_text()
    _check_includes_first(name, text)
    seen: set[str] = set()
    includes = "".join(_inline(match.group(0), seen) for match in _INCLUDE.finditer(text))
    body = _INCLUDE.sub("", text)
    resets = "".join(f"{reset}() " for reset in _RESET.findall(includes))
    code = (
        f"local KEYS, ARGV\n{includes}\nlocal function main()\n{_HEADER.sub('', body)}\nend\n"
        f"redis.register_function('{function}', function(keys, args)\n"
        f"  KEYS, ARGV = keys, args {resets}\n  return main()\nend)\n"
    )
    return f"#!lua name={function}\n" + _COMMENT_LINE.sub("", code)


def _check_includes_first(name: str, text: str) -> None:
    """A library moves a script's includes ahead of its body: only right for includes that
    come before any of its code, as every script's do."""
    code_seen = False
    for line in _HEADER.sub("", text).splitlines():
        if _INCLUDE.match(line):
            if code_seen:
                raise ValueError(f"scripts/{name}.lua: an include after code cannot become a library: {line}")
        elif line.strip() and not line.lstrip().startswith("--"):
            code_seen = True


class LuaScript:
    """One transition: its name, inlined source and SHA1 (what EVALSHA names); for a hot one
    (``as_function``), the name of its function (what FCALL names) and its library."""

    __slots__ = ("name", "source", "sha", "function", "library")

    def __init__(self, name: str, as_function: bool = False) -> None:
        self.name = name
        self.source = source(name)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
        self.function: str | None = None
        self.library: str | None = None
        if as_function:
            digest = hashlib.sha1(library(name, "NAME").encode()).hexdigest()
            self.function = f"pykue_{name}_{digest[:16]}"
            self.library = library(name, self.function)

    def __repr__(self) -> str:
        return f"<LuaScript {self.name} {self.sha[:8]}>"
