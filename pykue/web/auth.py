"""HTTP basic auth in front of any WSGI application (``pykue dashboard --auth USER:PASSWORD``)."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def parse_credentials(text: str) -> tuple[str, str]:
    """``"USER:PASSWORD"`` -> ``("USER", "PASSWORD")``; the password may contain colons."""
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ValueError("expected USER:PASSWORD with both parts non-empty")
    return user, password


class BasicAuth:
    """Answer 401 unless the request carries the one user and password given."""

    def __init__(self, app: WSGIApplication, username: str, password: str, realm: str = "pykue") -> None:
        self.app = app
        self.expected = f"{username}:{password}".encode()
        self.realm = realm

    def authorized(self, environ: WSGIEnvironment) -> bool:
        scheme, _, encoded = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(given, self.expected)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.authorized(environ):
            return self.app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", f'Basic realm="{self.realm}", charset="UTF-8"'),
            ],
        )
        return [b"Authentication required\n"]
