"""The dashboard's view of the fleet: the Overview page (``/``), the Workers page, their JSON
routes, pausing and resuming a type, and Prometheus' ``/metrics``.

Everything comes from Redis at each request (pykue/metrics.py's snapshot, the registry, the
per-minute counters), so two dashboards in front of one queue show the same numbers.
"""

from __future__ import annotations

import time
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from .. import __version__
from ..exceptions import ConfigurationError
from ..listing import list_with_counts
from ..metrics import CONTENT_TYPE, Snapshot, exposition, read_snapshot, registry_for
from ..states import check_state
from .api import json_route, order_of
from .forgery import guarded
from .parsing import ranks
from .presenters import STATES, job_json
from .responses import json_response
from .site import Site

#: The throughput windows the Overview shows, in minutes.
WINDOWS = (5, 60)


def prometheus(app: Site, request: Request) -> Response:
    """Prometheus' text exposition of the queue (see docs/metrics.md)."""
    try:
        registry = registry_for(app.queue)
    except ConfigurationError as missing:
        return Response(f"{missing}\n", status=501, mimetype="text/plain")
    return Response(exposition(registry), content_type=CONTENT_TYPE)


@json_route
def workers_json(app: Site, request: Request) -> Response:
    return json_response([w.to_json() for w in app.queue.workers()])


@json_route
def overview_json(app: Site, request: Request) -> Response:
    snap = read_snapshot(app.queue)
    per_minute = app.queue.metrics(minutes=max(WINDOWS))
    return json_response(
        {
            "counts": app.queue.counts(),
            "types": type_rows(snap),
            "workers": {"live": sum(not w.stale for w in snap.workers), "stale": sum(w.stale for w in snap.workers)},
            "paused": sorted(snap.paused),
            "throughput": [throughput(per_minute, window, time.time()) for window in WINDOWS],
            "chart": per_minute,
        }
    )


def type_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """A row per job type: counts per state, totals, mean duration, live workers, paused."""
    rows = []
    for name in sorted(set(snap.types) | snap.paused):
        stats = snap.types.get(name)
        runs = stats.duration.buckets[-1][1] if stats else 0
        rows.append(
            {
                "type": name,
                "counts": stats.counts if stats else {},
                "completed": stats.complete if stats else 0,
                "failed": stats.failed if stats else 0,
                "meanDuration": 1000 * stats.duration.sum_seconds / runs if stats and runs else None,
                "meanWait": 1000 * stats.wait.sum_seconds / runs if stats and runs else None,
                "workers": sum(1 for w in snap.workers if not w.stale and name in w.types),
                "paused": name in snap.paused,
            }
        )
    return rows


def throughput(per_minute: dict[str, list[int]], window: int, now: float) -> dict[str, Any]:
    """Jobs finished per minute over the last ``window`` minutes, divided by the time that
    really passed: the current minute counts only its elapsed seconds, and a young queue
    (no job finished before some minute of the window) only the time since that minute, which
    ``minutes`` then says."""
    complete, failed = per_minute["complete"][-window:], per_minute["failed"][-window:]
    finished = [c + f for c, f in zip(complete, failed)]
    first = next((i for i, n in enumerate(finished) if n), None)
    elapsed_now = now % 60
    span = 0.0 if first is None else (len(finished) - 1 - first) * 60 + elapsed_now
    span = max(span, 60.0) if first is not None else window * 60.0
    return {
        "window": window,
        "complete": sum(complete),
        "failed": sum(failed),
        "perMinute": round(sum(finished) * 60 / span, 2),
        "minutes": round(span / 60, 1),
        "young": first is not None and span < (window - 1) * 60,
    }


@json_route
def state_list(app: Site, request: Request, state: str, span: str, order: str | None = None) -> Response:
    """A state's jobs (as ``/jobs/[type/]state/from..to/order``) with the state counts they agree
    with (pykue/listing.py): the dashboard's list poll."""
    start, stop = ranks(span)
    job_type = request.args.get("type") or None
    listing = list_with_counts(app.queue, check_state(state), job_type, start, stop, order_of(order))
    return json_response(
        {"jobs": [job_json(job) for job in listing.jobs], "counts": listing.counts, "total": listing.total}
    )


@json_route
@guarded
def pause(app: Site, request: Request, job_type: str) -> Response:
    app.queue.pause(job_type)
    return json_response({"message": f"paused {job_type}"})


@json_route
@guarded
def resume(app: Site, request: Request, job_type: str) -> Response:
    app.queue.resume(job_type)
    return json_response({"message": f"resumed {job_type}"})


def page(name: str) -> Any:
    def view(app: Site, request: Request) -> Response:
        root = request.script_root.rstrip("/")
        settings = {"root": root, "title": app.title, "page": name}
        return app.render(
            f"{name}.html",
            title=app.title,
            page=name,
            root=root,
            states=STATES,
            counts=app.queue.counts(),  # the menu's, at once (and Redis out of reach is a 503 page)
            settings=settings,
            version=__version__,
        )

    view.__name__ = f"{name}_page"
    return view


overview_page = page("overview")
workers_page = page("workers")


def api_rules() -> list[Rule]:
    """JSON routes, under the API's ``/pykue/`` root (errors there are JSON)."""
    return [
        Rule("/pykue/overview", endpoint=overview_json, methods=["GET"]),
        Rule("/pykue/workers", endpoint=workers_json, methods=["GET"]),
        Rule("/pykue/list/<state>/<range:span>", endpoint=state_list, methods=["GET"]),
        Rule("/pykue/list/<state>/<range:span>/<order>", endpoint=state_list, methods=["GET"]),
        Rule("/pykue/types/<job_type>/pause", endpoint=pause, methods=["PUT"]),
        Rule("/pykue/types/<job_type>/resume", endpoint=resume, methods=["PUT"]),
    ]


def page_rules() -> list[Rule]:
    return [
        Rule("/", endpoint=overview_page, methods=["GET"]),
        Rule("/workers", endpoint=workers_page, methods=["GET"]),
        Rule("/metrics", endpoint=prometheus, methods=["GET"]),
    ]
