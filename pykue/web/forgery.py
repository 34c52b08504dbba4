"""The defence against forged browser requests on the routes that change jobs.

Kue's clients (curl, scripts, supertest, Kue's own jQuery UI) send ``PUT`` and ``DELETE``
with no body and no special header, ``POST /job`` with a JSON body, and ``GET /inactive/:id``
as a plain GET. Every one of them must keep working, so the defence looks only at what a
*browser* adds to a request another site made it send:

* ``Sec-Fetch-Site: cross-site`` or ``same-site``, which browsers since 2020-2023 attach to
  every request (``same-origin`` and ``none``, a typed or bookmarked URL, are the user's own);
* without fetch metadata, an ``Origin`` or ``Referer`` naming another host than the one asked.

A browser cannot send ``PUT`` or ``DELETE`` to another origin at all without a CORS
preflight, which the dashboard never grants; a form or an ``<img>`` can only make GETs and
POSTs, and a POST only with a form or text body, hence the JSON content type ``POST /job``
requires. What stays open is a browser that sends none of these headers (older Safari, a
``Referrer-Policy: no-referrer`` page) loading ``<img src=".../inactive/5">``: that requeues
one job, which is Kue's design of a GET that writes (see docs/dashboard.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from .responses import error
from .site import Site

View = Callable[..., Response]

#: What a browser says of a request another site made it send.
FOREIGN_SITES = ("cross-site", "same-site")


def foreign_source(request: Request) -> str | None:
    """What tells that a browser sent this request for another site, or None.

    When the browser sends ``Sec-Fetch-Site`` it is the whole answer: a proxy that rewrites
    ``Host`` then cannot make the dashboard's own page look foreign.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return f"Sec-Fetch-Site: {site}" if site.strip().lower() in FOREIGN_SITES else None
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value is not None and not same_host(value, request.host):
            return f"{header}: {value[:100]}"
    return None


def same_host(url: str, host: str) -> bool:
    """Whether ``url`` (an Origin or a Referer) names ``host``, port included.

    ``Origin: null`` (a sandboxed frame, a ``file:`` page, a redirect) names no host and is
    foreign, as is anything unreadable.
    """
    try:
        return urlsplit(url.strip()).netloc.lower() == host.lower() != ""
    except ValueError:
        return False


def has_body(request: Request) -> bool:
    if request.content_length is not None:
        return request.content_length > 0
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower() and bool(request.get_data())


def refusal(request: Request) -> Response | None:
    """Why a request that changes jobs is refused (a JSON error), or None when it may go ahead."""
    source = foreign_source(request)
    if source is not None:
        return error(
            f"{request.method} {request.path} changes jobs and this request came from another site ({source}): refused",
            403,
        )
    if request.mimetype == "application/json":
        return None
    try:
        bodiless = request.method in ("PUT", "DELETE") and not has_body(request)
    except RequestEntityTooLarge:
        bodiless = False
    if request.method == "GET" or bodiless:
        return None
    return error(f"{request.method} {request.path} needs the header Content-Type: application/json", 415)


def guarded(view: View) -> View:
    """Refuse forged requests before ``view`` runs (see :func:`refusal`)."""

    @functools.wraps(view)
    def wrapper(app: Site, request: Request, **values: Any) -> Response:
        return refusal(request) or view(app, request, **values)

    return wrapper
