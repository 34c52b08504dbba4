"""The Lua transitions as Redis runs them: ``scripts/<name>.lua`` with its includes inlined.

A line ``--- @include "name"`` inlines ``scripts/includes/name.lua``, once per script (an
include may include others); the SHA1 is computed here, so registering a script costs no
round trip (the transport loads it when Redis answers NOSCRIPT).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

SCRIPT_DIR = Path(__file__).with_name("scripts")
_INCLUDE = re.compile(r'^--- @include "([\w-]+)"\s*$', re.M)


@cache
def source(name: str) -> str:
    text = (SCRIPT_DIR / f"{name}.lua").read_text()
    seen: set[str] = set()

    def inline(match: re.Match[str]) -> str:
        include = match.group(1)
        if include in seen:
            return ""
        seen.add(include)
        return _INCLUDE.sub(inline, (SCRIPT_DIR / "includes" / f"{include}.lua").read_text())

    return _INCLUDE.sub(inline, text)


class LuaScript:
    """One transition: its name, inlined source and SHA1 (what EVALSHA names)."""

    __slots__ = ("name", "source", "sha")

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = source(name)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"<LuaScript {self.name} {self.sha[:8]}>"
