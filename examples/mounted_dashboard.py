"""The dashboard mounted under /admin/queue of another WSGI application.

    PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 python examples/mounted_dashboard.py
    # http://127.0.0.1:8000/ is the host app, http://127.0.0.1:8000/admin/queue/ the dashboard

Any WSGI server can serve ``application`` (``gunicorn mounted_dashboard:application``).
"""

from __future__ import annotations

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple
from werkzeug.wrappers import Response

from pykue import Queue
from pykue.web import create_app

queue = Queue()  # $PYKUE_REDIS_URL, else redis://127.0.0.1:6379/0


def host_app(environ, start_response):
    page = '<h1>My app</h1><p><a href="admin/queue/">job queue</a></p>'
    return Response(page, mimetype="text/html")(environ, start_response)


application = DispatcherMiddleware(host_app, {"/admin/queue": create_app(queue, title="My app jobs")})

if __name__ == "__main__":
    run_simple("127.0.0.1", 8000, application)
