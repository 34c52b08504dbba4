"""Kue 0.11's JSON API, route for route (Kue's lib/http/routes/json.js).

Kue's clients read errors as ``200 {"error": ...}`` on every route but ``POST /job``, so
those status codes stay. What pykue changes is what Kue got wrong: invalid states and
priorities are refused before anything is written, ``POST /job`` validates every option
and its body must be JSON of a bounded size, and a request a browser was made to send by
another site is refused (:mod:`pykue.web.forgery`), while Kue's own clients, which send
bodiless PUTs and DELETEs and a plain ``GET /inactive/:id``, are answered as Kue answers.
Input no route can use (a range that is no pair of integers) gets ``400`` naming it, where
Kue passed it on to Redis; Redis out of reach gets ``503`` (see :mod:`pykue.web.app`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..exceptions import InvalidJobError, JobNotFoundError, PykueError
from . import periodic
from .forgery import guarded
from .parsing import InvalidInputError, is_job_id, js_truthy, parse_body, parse_int, ranks, shorten, shown
from .presenters import job_json, stats_json
from .responses import accepts_json, error, json_response, not_found
from .site import Site

if TYPE_CHECKING:
    from ..job import Job

log = logging.getLogger(__name__)

View = Callable[..., Response]

#: Redis out of reach: ``503`` rather than an error body (see ``Dashboard.redis_unavailable``).
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
#: The most jobs ``/pykue/jobs?ids=`` answers with at once.
MAX_IDS = 500
#: ``count_metric`` (scripts/includes/publish.lua) expires each minute's counters after 7200 s.
METRICS_KEPT_MINUTES = 120


def json_route(view: View) -> View:
    """Kue's ``provides('json')`` guard, and its habit of answering errors as 200 bodies."""

    @functools.wraps(view)
    def wrapper(app: Site, request: Request, **values: Any) -> Response:
        if not accepts_json(request):
            return not_found(request)
        try:
            return view(app, request, **values)
        except InvalidInputError as exc:
            return error(str(exc), 400)
        except REDIS_DOWN:
            raise
        except (PykueError, RedisError) as exc:
            return error(str(exc))

    return wrapper


def order_of(order: str | None) -> str:
    """Kue reverses the list only for ``desc``; any other word means ascending."""
    return "desc" if order == "desc" else "asc"


# --- read routes -------------------------------------------------------------------------


@json_route
def stats(app: Site, request: Request) -> Response:
    return json_response(stats_json(app.queue.counts(), app.queue.work_time()))


@json_route
def search(app: Site, request: Request) -> Response:
    query = request.args.get("q", "")
    if not query or not app.queue.search_enabled:
        return json_response([])
    return json_response([str(job_id) for job_id in app.queue.search(query)])


@json_route
def job_range(app: Site, request: Request, span: str, order: str | None = None) -> Response:
    start, stop = ranks(span)
    return json_response([job_json(job) for job in app.queue.range(start, stop, order_of(order))])


@json_route
def state_range(app: Site, request: Request, state: str, span: str, order: str | None = None) -> Response:
    start, stop = ranks(span)
    jobs = app.queue.range_by_state(state, start, stop, order_of(order))
    return json_response([job_json(job) for job in jobs])


@json_route
def type_range(app: Site, request: Request, job_type: str, state: str, span: str, order: str | None = None) -> Response:
    start, stop = ranks(span)
    jobs = app.queue.range_by_type(job_type, state, start, stop, order_of(order))
    return json_response([job_json(job) for job in jobs])


@json_route
def type_state_stats(app: Site, request: Request, job_type: str, state: str) -> Response:
    return json_response({"count": app.queue.count(state, job_type)})


@json_route
def types(app: Site, request: Request) -> Response:
    return json_response(app.queue.types())


@json_route
def job(app: Site, request: Request, job_id: str) -> Response:
    # Kue loads this job by the id in the URL, so this is the one route where it is a string.
    return json_response(job_json(load_job(app, job_id), string_id=True))


@json_route
def job_log(app: Site, request: Request, job_id: str) -> Response:
    return json_response(app.queue.job_logs(job_id) if is_job_id(job_id) else [])


@json_route
def metrics(app: Site, request: Request) -> Response:
    """pykue's own: completed and failed jobs per minute, for the dashboard's chart.

    More minutes than Redis keeps would only pad the chart with zeros that look like idle
    time, so the span is clamped to what is kept; the answer's ``minutes`` tells the span.
    """
    text = request.args.get("minutes", "60")
    minutes = parse_int(text)
    if minutes is None:
        raise InvalidInputError(
            f"invalid minutes {shorten(text)!r}: expected an integer (at most {METRICS_KEPT_MINUTES} are kept)"
        )
    body: dict[str, Any] = dict(app.queue.metrics(minutes=int(max(1, min(minutes, METRICS_KEPT_MINUTES)))))
    body["workTime"] = app.queue.work_time()
    return json_response(body)


@json_route
def jobs_by_id(app: Site, request: Request) -> Response:
    """pykue's own: many jobs by id in one round trip (search results), in the order asked."""
    wanted = [part.strip() for part in request.args.get("ids", "").split(",")]
    ids = [int(part) for part in wanted if is_job_id(part)][:MAX_IDS]
    return json_response([job_json(found) for found in app.queue.get_jobs(ids)])


def load_job(app: Site, job_id: str) -> Job:
    """``Job.get``: ids that are not numbers simply do not exist, as in Kue."""
    if not is_job_id(job_id):
        raise JobNotFoundError(job_id)
    return app.queue.get_job(job_id)


# --- state-changing routes -----------------------------------------------------------------


@json_route
@guarded
def update_state(app: Site, request: Request, job_id: str, state: str) -> Response:
    load_job(app, job_id).set_state(state)
    return json_response({"message": "updated state"})


@json_route
@guarded
def update_priority(app: Site, request: Request, job_id: str, priority: str) -> Response:
    value = parse_int(priority)
    if value is None:
        return error("invalid priority")
    load_job(app, job_id).set_priority(value)
    return json_response({"message": "updated priority"})


@json_route
@guarded
def remove(app: Site, request: Request, job_id: str) -> Response:
    load_job(app, job_id).remove()
    return json_response({"message": f"job {job_id} removed"})


@json_route
@guarded
def requeue(app: Site, request: Request, job_id: str) -> Response:
    """``GET /inactive/:id``: Kue's restart button, a GET that writes; refused when a browser says
    another site sent it."""
    load_job(app, job_id).set_state("inactive")
    return json_response({"message": f"job {job_id} inactive"})


CANCEL_SAID = {"CANCELLED": "cancelled", "STOPPING": "cancelled; its worker stops it", "FINISHED": "already finished"}


@json_route
@guarded
def cancel(app: Site, request: Request, job_id: str) -> Response:
    """pykue's own: ``PUT /pykue/job/:id/cancel[?reason=...]``, Kue's bodiless PUT beside its
    state route, and guarded as it is."""
    result = app.queue.cancel(load_job(app, job_id).id, request.args.get("reason", ""))
    return json_response({"message": f"job {job_id} {CANCEL_SAID[result.name]}", "result": result.name.lower()})


@json_route
@guarded
def create(app: Site, request: Request) -> Response:
    """``POST /job``: one job object or an array of them, each answered in input order."""
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return error(f"request body is larger than the {app.max_body} byte limit", 413)
    if not raw.strip():
        return no_content()
    body = parse_body(raw)
    if body == {} or body == []:
        return no_content()
    if isinstance(body, dict):
        status, result = create_one(app, body)
        return json_response(result, status)
    if isinstance(body, list):
        outcomes = [create_one(app, item) for item in body]
        failures = [status for status, _ in outcomes if status != 200]
        return json_response([result for _, result in outcomes], failures[0] if failures else 200)
    return error("expected a job object or an array of job objects", 400)


def no_content() -> Response:
    """Kue's answer to an empty ``POST /job`` (``res.status(204).end()``): no body and no media type."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def create_one(app: Site, args: Any) -> tuple[int, dict[str, Any]]:
    if not isinstance(args, dict):
        return 400, {"error": "expected a job object"}
    job_type = args.get("type")
    if not js_truthy(job_type):
        return 400, {"error": "Must provide job type"}
    if not isinstance(job_type, str):
        return 400, {"error": f"invalid type {shown(job_type)}: expected a string"}
    options = args.get("options") or {}
    if not isinstance(options, dict):
        return 400, {"error": f"invalid options {shown(options)}: expected an object"}
    data = args.get("data")
    try:
        new_job = app.queue.create(job_type, data if js_truthy(data) else {})
        new_job.apply_kue_options(options).save()
    except InvalidJobError as exc:
        return 400, {"error": f"invalid {exc.field} {shown(exc.value)}: {exc.reason}"}
    except REDIS_DOWN:
        raise
    except (PykueError, RedisError) as exc:
        log.warning("POST /job could not save a %r job: %s", job_type, exc)
        return 500, {"error": str(exc)}
    return 200, {"message": "job created", "id": new_job.id}


def rules() -> list[Rule]:
    """Kue's routes in its registration order, then pykue's own under ``/pykue/``."""
    get, put = ["GET"], ["PUT"]
    return [
        Rule("/stats", endpoint=stats, methods=get),
        Rule("/job/search", endpoint=search, methods=get),
        Rule("/jobs/<range:span>", endpoint=job_range, methods=get),
        Rule("/jobs/<range:span>/<order>", endpoint=job_range, methods=get),
        Rule("/jobs/<job_type>/<state>/<range:span>", endpoint=type_range, methods=get),
        Rule("/jobs/<job_type>/<state>/<range:span>/<order>", endpoint=type_range, methods=get),
        Rule("/jobs/<job_type>/<state>/stats", endpoint=type_state_stats, methods=get),
        Rule("/jobs/<state>/<range:span>", endpoint=state_range, methods=get),
        Rule("/jobs/<state>/<range:span>/<order>", endpoint=state_range, methods=get),
        Rule("/job/types", endpoint=types, methods=get),
        Rule("/job/<job_id>", endpoint=job, methods=get),
        Rule("/job/<job_id>/log", endpoint=job_log, methods=get),
        Rule("/job/<job_id>/state/<state>", endpoint=update_state, methods=put),
        Rule("/job/<job_id>/priority/<priority>", endpoint=update_priority, methods=put),
        Rule("/job/<job_id>", endpoint=remove, methods=["DELETE"]),
        Rule("/job", endpoint=create, methods=["POST"]),
        Rule("/inactive/<job_id>", endpoint=requeue, methods=get),
        Rule("/pykue/metrics", endpoint=metrics, methods=get),
        Rule("/pykue/jobs", endpoint=jobs_by_id, methods=get),
        Rule("/pykue/job/<job_id>/cancel", endpoint=cancel, methods=put),
        Rule("/pykue/schedules", endpoint=json_route(periodic.schedules_and_limits), methods=get),
    ]
