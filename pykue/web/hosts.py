"""The ``Host`` allowlist that stops DNS rebinding (``create_app(..., allowed_hosts=...)``).

A page on ``http://evil.example:3000`` whose name the attacker re-points at 127.0.0.1 is,
to the browser, same-origin with itself: it sends ``Host: evil.example:3000``, a matching
``Origin`` and ``Sec-Fetch-Site: same-origin``, so no origin check can tell it from the
dashboard's own page. Only the name in ``Host`` gives it away, hence an allowlist of the
names the dashboard is really reached by.

Names are matched with Werkzeug's :func:`~werkzeug.wsgi.host_is_trusted` (the port is
ignored; ``.example.com`` allows every subdomain). That function cannot match IPv6
literals (it cuts ``[::1]`` at the first colon), so those are compared here, normalised.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wsgi import get_host

from .responses import error

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: The names a loopback-bound dashboard answers to, whatever ``--host`` says.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_IPV6_HOST = re.compile(r"\[([0-9a-f:.]+)\](?::[0-9]{1,5})?")


def normalize_host(name: str) -> str:
    """One allowlist entry as it is compared: lower case, no port, IPv6 in ``[...]`` form."""
    name = name.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.partition(":")[0]  # "jobs.example.com:8080": the port never counts
    if ":" in name:
        try:
            return f"[{ipaddress.IPv6Address(name).compressed}]"
        except ValueError:
            return f"[{name}]"  # matches nothing a client sends, as a typo should
    return name


def normalize_hosts(names: Iterable[str] | str) -> frozenset[str]:
    if isinstance(names, str):
        names = [names]
    return frozenset(normalize_host(name) for name in names if name and name.strip())


def request_host(environ: WSGIEnvironment) -> str:
    """The ``Host`` header, or the server's own address for HTTP/1.0 requests without one."""
    header: str | None = environ.get("HTTP_HOST")
    if header is None:
        return get_host(environ)
    return header.strip().lower()


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether ``host`` (``name[:port]``, as in the header) is one of ``allowed``.

    An empty allowlist allows nothing (Werkzeug's ``host_is_trusted`` would allow anything).
    """
    if not host:
        return False
    if host.startswith("["):
        match = _IPV6_HOST.fullmatch(host)
        return match is not None and normalize_host(match.group(1)) in allowed
    names = [name for name in allowed if not name.startswith("[")]
    return bool(names) and host_is_trusted(host, names)


class AllowedHosts:
    """WSGI middleware: ``400`` for a ``Host`` outside ``names``, before ``app`` sees it.

    ``create_app(..., allowed_hosts=...)`` puts it inside the dashboard; put it outermost
    yourself when another layer (auth) wraps the dashboard and should not answer rebound pages.
    """

    def __init__(self, app: WSGIApplication, names: Iterable[str] | str) -> None:
        self.app = app
        self.names = normalize_hosts(names)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = request_host(environ)
        if host_allowed(host, self.names):
            return self.app(environ, start_response)
        response = error(
            f"Host {host[:200]!r} is not allowed by this dashboard (allowed_hosts, "
            "or --allowed-host NAME on the command line)",
            400,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response(environ, start_response)


def is_loopback(bind_host: str) -> bool:
    """``127.0.0.1`` (any of 127/8), ``::1`` or ``localhost``: only this machine can connect."""
    name = bind_host.strip().lower().strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def dashboard_allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str] | None:
    """What ``pykue dashboard --host HOST [--allowed-host NAME ...]`` answers to.

    Bound to loopback: the loopback names, the ``--host`` value and every ``--allowed-host``.
    Bound elsewhere: no restriction (None) unless ``--allowed-host`` names some, in which
    case those, the loopback names and the ``--host`` address itself.
    """
    extra = normalize_hosts(extra)
    if not extra and not is_loopback(bind_host):
        return None
    allowed = set(normalize_hosts(LOOPBACK_HOSTS)) | extra
    own = normalize_host(bind_host)
    if own and own not in ("0.0.0.0", "[::]"):
        allowed.add(own)
    return frozenset(allowed)
