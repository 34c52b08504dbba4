"""Optional full-text search over job data, in reds' key layout (word -> ids, id -> words).

Off by default, as in Kue. Words are lower-cased ``\\w+`` tokens without common stop
words; pykue does not port reds' Porter stemmer and Metaphone, so a Node Kue search does
not find words pykue indexed (and the other way round).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .exceptions import InvalidJobError

_WORD = re.compile(r"\w+", re.UNICODE)
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then"
    " there these they this to was will with".split()
)


def words(text: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOP_WORDS]


def query_words(query: Any) -> list[str]:
    """The words of a search query (None or "" has none)."""
    if query is None:
        return []
    if not isinstance(query, str):
        raise InvalidJobError("query", query, "expected a string")
    return words(query)


def index_words(data: Any, search_keys: Iterable[str] | None) -> list[str]:
    """The words Kue would index: the JSON of data, or only the values at ``search_keys``."""
    if not search_keys:
        return words(json.dumps(data, ensure_ascii=False))
    found: list[str] = []
    for path in search_keys:
        value = _lookup(data, path)
        if value is not None:
            found.extend(words(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)))
    return found


def _lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data
