"""The dashboard's job lists: a page per state, all rendering the same template (the
Overview at ``/`` and the Workers page are pykue/web/fleet.py's).

The page is a shell; ``ui/static/dashboard.js`` fills it from the JSON API and keeps it
live by polling. Everything the server renders goes through Jinja's autoescaping, and the
page's settings travel as JSON in a ``<script type="application/json">`` element.
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from .. import __version__
from ..states import PRIORITIES
from .presenters import STATES
from .site import Site

STATE_NAMES = tuple(name for name, _ in STATES)
#: Kue's named priorities, most urgent first: the page's menus and labels, from the one definition.
PRIORITY_CHOICES = sorted(((value, name) for name, value in PRIORITIES.items()))


def page(app: Site, request: Request, state: str = "active") -> Response:
    root = request.script_root.rstrip("/")
    job_type = request.args.get("type", "")
    order = "desc" if request.args.get("order") == "desc" else "asc"
    settings = {
        "root": root,
        "state": state,
        "type": job_type,
        "order": order,
        "focus": request.args.get("job", ""),  # a job whose detail opens (the Workers page links so)
        "search": app.queue.search_enabled,
        "title": app.title,
        "states": [{"name": name, "label": label} for name, label in STATES],
        "priorities": PRIORITY_CHOICES,
    }
    return app.render(
        "jobs.html",
        title=app.title,
        root=root,
        state=state,
        states=STATES,
        priorities=PRIORITY_CHOICES,
        counts=app.queue.counts(),
        types=app.queue.types(),
        job_type=job_type,
        order=order,
        search_enabled=app.queue.search_enabled,
        settings=settings,
        version=__version__,
    )


def rules() -> list[Rule]:
    states = ",".join(STATE_NAMES)
    return [
        Rule(f"/<any({states}):state>", endpoint=page, methods=["GET"]),
    ]
