"""pykue's own route for workflows (pykue/canvas.py): the workflow a job is a step of.

``GET /pykue/job/<id>/workflow`` answers ``{"workflow": null}`` for a job in none, else the
flow's id, kind, first failed step, and every step's job id, type, state (``waiting``
before its job exists, ``removed`` after) and the job ids of its parents and children:
what the dashboard's job detail shows, linked.
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..workflow_store import flow_of_job, read_flow
from .api import json_route
from .parsing import is_job_id
from .responses import json_response
from .site import Site


@json_route
def job_workflow(app: Site, request: Request, job_id: str) -> Response:
    queue = app.queue
    flow_id = flow_of_job(queue.client, queue.keys, int(job_id)) if is_job_id(job_id) else None
    view = read_flow(queue.client, queue.keys, flow_id) if flow_id is not None else None
    return json_response({"workflow": view.to_json() if view else None})


def rules() -> list[Rule]:
    return [Rule("/pykue/job/<job_id>/workflow", endpoint=job_workflow, methods=["GET"])]
