"""Flask: an app factory that enqueues, with the pykue dashboard mounted at /queue.

pip install flask
PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 flask --app flask_app run   # from this folder
PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 pykue worker -A web_tasks
"""

from __future__ import annotations

from flask import Flask, abort, request
from web_tasks import queue, send_welcome
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from pykue import InvalidJobError, JobNotFoundError
from pykue.web import create_app as create_dashboard


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/signup")
    def signup() -> tuple[dict[str, int], int]:
        form = request.get_json(silent=True) or {}
        try:
            job = send_welcome.delay(**form)  # an unknown or missing field: InvalidJobError, nothing saved
        except InvalidJobError as error:
            abort(400, str(error))
        return {"job": job.id}, 202

    @app.get("/jobs/<int:job_id>")
    def job_state(job_id: int) -> dict[str, object]:
        try:
            job = queue.get_job(job_id)
        except JobNotFoundError:
            abort(404)
        return {"id": job.id, "state": job.state, "result": job.result}

    # The dashboard is a WSGI app: mount it beside Flask's own routes.
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/queue": create_dashboard(queue, title="Signups")}
    )
    return app
