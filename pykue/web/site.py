"""What a route uses of the dashboard that serves it, as a small Protocol.

The dashboard (app.py) builds its URL map from the routes of api.py and views.py, so app.py
imports them; the routes take their dashboard as a :class:`Site` instead of ``Dashboard``,
which keeps the imports one-way (app.py above, the routes below). A ``Dashboard``
satisfies it structurally and is what every route receives at runtime.
"""

from __future__ import annotations

from typing import Any, Protocol

from werkzeug.wrappers import Response

from ..queue import Queue


class Site(Protocol):
    """The queue a route reads and changes, the page title, the ``POST /job`` body limit in
    bytes, and the page renderer (Jinja, autoescaped)."""

    @property
    def queue(self) -> Queue: ...

    @property
    def title(self) -> str: ...

    @property
    def max_body(self) -> int: ...

    def render(self, name: str, **context: Any) -> Response: ...
