"""pykue's own read-only route for periodic jobs and fleet-wide limits:
``GET /pykue/schedules`` answers every schedule (next due first) and every limited type."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from ..limits import Limits
from ..schedules import Schedule
from .responses import json_response
from .site import Site


def schedules_and_limits(app: Site, request: Request) -> Response:
    """Served through api.json_route, as Kue's read routes are."""
    body = {
        "schedules": [_schedule_json(s) for s in app.queue.schedules()],
        "limits": {job_type: _limits_json(limits) for job_type, limits in app.queue.limits().items()},
    }
    return json_response(body)


def _schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "type": schedule.type,
        "cron": schedule.periodic.cron,
        "every": schedule.periodic.every,
        "timezone": schedule.periodic.timezone,
        "data": schedule.data,
        "nextRun": round(schedule.next_run.timestamp() * 1000),
    }


def _limits_json(limits: Limits) -> dict[str, Any]:
    return {
        "rateLimit": limits.rate_limit,
        "globalConcurrency": limits.global_concurrency,
        "setAtRunTime": sorted(limits.set_at_run_time),
    }
