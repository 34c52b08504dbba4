"""The bodies every route shares: JSON as the dashboard's ``JSON.parse`` reads it, and errors.

Kue's clients see Express's HTML ``Cannot GET /path`` for paths it does not know, so a
browser or any client that asks for nothing in particular still gets it. Paths under the
API's own roots (``/job``, ``/jobs``, ``/stats``...) answer a JSON client in JSON instead.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

from markupsafe import escape
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Request, Response


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json_bytes(body), status=status, content_type="application/json; charset=utf-8")


def json_bytes(body: Any) -> bytes:
    """What ``JSON.stringify`` writes: NaN and the infinities as ``null``, never a bare ``Infinity``.

    ``Job`` already reads the ones Redis can hold (a ``NaN`` token in data, a priority Node
    stored as ``"Infinity"``) as None; this is the net for any other, since one bare
    ``Infinity`` would make the dashboard's ``JSON.parse`` fail for the whole page.
    """
    try:
        text = _dumps(body)
    except ValueError:  # allow_nan=False met a non-finite float
        body = finite(body)
        text = _dumps(body)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from stored JSON ("\ud800"): escape it, as JSON.stringify does
        return _dumps(body, ascii_only=True).encode("ascii")


def _dumps(body: Any, ascii_only: bool = False) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False)


def finite(value: Any) -> Any:
    """``value`` with every NaN and infinity replaced by None, however deep."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def error(message: str, status: int = 200) -> Response:
    return json_response({"error": message}, status)


def accepts_json(request: Request) -> bool:
    """Express's ``req.accepts('json')``: no Accept header accepts everything."""
    if not request.headers.get("Accept", "").strip():
        return True
    return request.accept_mimetypes.quality("application/json") > 0


def prefers_json(request: Request) -> bool:
    """An Accept header that ranks JSON above HTML: an API client's, never a browser's."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def route_not_found(request: Request, api_path: bool) -> Response:
    """404 for a path no route matches: JSON for an API path or a JSON client, else Kue's page."""
    if accepts_json(request) and (api_path or prefers_json(request)):
        return error(f"Cannot {request.method} {request.script_root + request.path}", 404)
    return not_found(request)


def method_not_allowed(request: Request, refusal: MethodNotAllowed) -> Response:
    allowed = ", ".join(sorted(refusal.valid_methods or ()))
    response = error(
        f"{request.method} is not allowed on {request.script_root + request.path}; allowed: {allowed}", 405
    )
    response.headers["Allow"] = allowed
    return response


NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Error</title>
</head>
<body>
<pre>Cannot {method} {path}</pre>
</body>
</html>
"""


def not_found(request: Request) -> Response:
    """Express's 404 page, as Kue answers unknown paths and JSON routes the client refuses."""
    path = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=-._~%")
    body = NOT_FOUND_PAGE.format(method=escape(request.method), path=escape(path))
    response = Response(body, status=404, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
