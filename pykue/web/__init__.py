"""pykue's dashboard: Kue's JSON API and a live web UI, as a WSGI application."""

from __future__ import annotations

from .app import Dashboard, create_app
from .auth import BasicAuth
from .hosts import AllowedHosts

__all__ = ["AllowedHosts", "BasicAuth", "Dashboard", "create_app"]
