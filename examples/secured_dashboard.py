"""The dashboard behind your own auth: here, a user name set by a single-sign-on proxy.

    PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 python examples/secured_dashboard.py
    curl -H 'X-Forwarded-User: ana' http://127.0.0.1:8001/stats

For plain HTTP basic auth, ``pykue dashboard --auth admin:s3cret`` or
``pykue.web.BasicAuth(create_app(queue), "admin", password)`` is enough.
"""

from __future__ import annotations

import os

from werkzeug.serving import run_simple

from pykue import Queue
from pykue.web import create_app

STAFF = set(os.environ.get("DASHBOARD_STAFF", "ana,tj").split(","))


def staff_only(app):
    def guarded(environ, start_response):
        if environ.get("HTTP_X_FORWARDED_USER") not in STAFF:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"staff only\n"]
        return app(environ, start_response)

    return guarded


application = staff_only(create_app(Queue(), title="Jobs (staff)"))

if __name__ == "__main__":
    run_simple("127.0.0.1", 8001, application)
