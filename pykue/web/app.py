"""The dashboard as a WSGI application: Kue's JSON API plus pykue's pages, over one Queue.

Everything lives on the :class:`Dashboard` instance (the queue, the URL map, the Jinja
environment), so two dashboards for two queues can run side by side in one process::

    from pykue.web import create_app
    app = create_app("redis://127.0.0.1:6379/0", prefix="q", title="Emails")

The application honours ``SCRIPT_NAME``: mount it under any path (Werkzeug's
``DispatcherMiddleware``, a Flask or Django project, gunicorn's ``--env SCRIPT_NAME``)
and every link, asset and API call follows.

Errors on API routes are JSON (:mod:`pykue.web.responses`); Redis out of reach is a ``503``,
JSON for the API and a short page for the HTML views, logged as one warning line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.wrappers import Request, Response

from .. import __version__
from ..connection import describe
from ..queue import Queue
from . import api, fleet, parsing, responses, views, workflow_api
from .hosts import AllowedHosts, normalize_hosts
from .site import Site

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

#: ``ui/`` of the repository; installed, the same files sit at ``pykue/ui`` in the package.
UI_DIR = Path(__file__).resolve().parent.parent / "ui"
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"

#: Kue's body-parser limit for ``POST /job``.
DEFAULT_MAX_BODY = 100 * 1024
#: Seconds a client is told to wait (``Retry-After``) when Redis is out of reach.
RETRY_AFTER = 5


class Dashboard:
    """One dashboard over one queue. Call it as a WSGI application."""

    def __init__(
        self,
        queue: Queue,
        *,
        title: str = "pykue",
        max_body: int = DEFAULT_MAX_BODY,
        owns_queue: bool = False,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        self.queue = queue
        self.title = title
        self.max_body = max_body
        self.owns_queue = owns_queue
        #: The ``Host`` names answered (see :mod:`pykue.web.hosts`); None answers any.
        self.allowed_hosts = None if allowed_hosts is None else normalize_hosts(allowed_hosts)
        api_rules = [*api.rules(), *workflow_api.rules(), *fleet.api_rules()]
        self.url_map = Map(
            [*api_rules, *fleet.page_rules(), *views.rules()],
            converters={"range": parsing.RangeConverter},
            strict_slashes=False,
        )
        #: The API's first path segments (``job``, ``jobs``, ``stats``...): errors there are JSON.
        self.api_roots = frozenset(rule.rule.split("/")[1] for rule in api_rules)
        self.api_endpoints = frozenset(rule.endpoint for rule in api_rules)
        self.templates = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True)
        self._wsgi: WSGIApplication = SharedDataMiddleware(
            self._dispatch_wsgi, {"/static": str(STATIC_DIR)}, cache_timeout=3600
        )
        if self.allowed_hosts is not None:  # before everything, static files included
            self._wsgi = AllowedHosts(self._wsgi, self.allowed_hosts)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._wsgi(environ, start_response)

    def _dispatch_wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = self.max_body
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            rule, values = match(adapter, request)
        except NotFound:
            return responses.route_not_found(request, self.is_api_path(request))
        except MethodNotAllowed as refusal:
            if self.refused_by_api(adapter, request, refusal):
                return responses.method_not_allowed(request, refusal)
            return refusal.get_response(request.environ)
        except HTTPException as error:
            return error.get_response(request.environ)
        return self.call(rule, request, values)

    def call(self, rule: Rule, request: Request, values: Mapping[str, Any]) -> Response:
        site: Site = self  # what the routes see of the dashboard (checked by mypy)
        try:
            response: Response = rule.endpoint(site, request, **values)
            return response
        except api.REDIS_DOWN as error:
            return self.redis_unavailable(request, error, page=rule.endpoint not in self.api_endpoints)
        except HTTPException as error:
            return error.get_response(request.environ)
        except Exception as error:  # a bug: say so in JSON, keep the traceback in the log
            log.exception("%s %s failed", request.method, request.path)
            return responses.error(f"internal error: {type(error).__name__}", 500)

    def is_api_path(self, request: Request) -> bool:
        """Under one of the API's roots: where no route matches, a JSON client gets JSON."""
        return request.path.split("/")[1] in self.api_roots

    def refused_by_api(self, adapter: MapAdapter, request: Request, refusal: MethodNotAllowed) -> bool:
        """Whether an API route refused the method (``/inactive`` is a page, ``/inactive/3`` is not)."""
        method = sorted(refusal.valid_methods or ["GET"])[0]
        try:
            rule, _ = adapter.match(request.path.rstrip("/") or "/", method=method, return_rule=True)
        except HTTPException:
            return False
        return rule.endpoint in self.api_endpoints

    def redis_unavailable(self, request: Request, error: Exception, *, page: bool) -> Response:
        """503, as a page or as JSON; Redis going away is an outage, not a bug, so no traceback."""
        where = describe(self.queue.client)
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        log.warning("%s %s: Redis at %s is unavailable: %s", request.method, request.path, where, reason)
        if page:
            response = self.render(
                "unavailable.html",
                title=self.title,
                root=request.script_root.rstrip("/"),
                version=__version__,
                where=where,
                reason=reason,
            )
            response.status_code = 503
        else:
            response = responses.error(f"redis unavailable: {reason}", 503)
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    def render(self, name: str, **context: Any) -> Response:
        template = self.templates.get_template(name)
        return Response(template.render(**context), mimetype="text/html")

    def close(self) -> None:
        """Close the queue's connections when the dashboard created the queue itself."""
        if self.owns_queue:
            self.queue.close()


def match(adapter: MapAdapter, request: Request) -> tuple[Rule, Mapping[str, Any]]:
    """Route the request; like Express, a trailing slash does not matter (``/stats/``)."""
    try:
        return adapter.match(return_rule=True)
    except NotFound:
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            return adapter.match(path.rstrip("/"), method=request.method, return_rule=True)
        raise


def create_app(
    queue_or_redis_url: Any,
    prefix: str = "q",
    title: str = "pykue",
    *,
    max_body: int = DEFAULT_MAX_BODY,
    search: bool | None = None,
    allowed_hosts: Iterable[str] | None = None,
) -> Dashboard:
    """Build a dashboard for a :class:`~pykue.Queue`, or for a queue it opens on a Redis URL.

    :param queue_or_redis_url: a ``Queue`` (its prefix and search setting win), or anything
        ``Queue(redis=...)`` accepts: a URL, a dict of options, a ``redis.Redis``.
    :param prefix: the key prefix when a queue is opened here (Kue's ``-q``).
    :param title: shown in the page header and the browser tab.
    :param max_body: the largest ``POST /job`` body accepted, in bytes.
    :param search: enable ``/job/search`` when a queue is opened here.
    :param allowed_hosts: the names (``Host`` header, port ignored) the dashboard answers to;
        any other gets ``400``. This is what stops DNS rebinding when nothing else checks
        ``Host``. None (the default) answers any, leaving ``Host`` to the server or framework
        in front; ``pykue dashboard`` sets it when bound to loopback.
    """
    if isinstance(queue_or_redis_url, Queue):
        return Dashboard(queue_or_redis_url, title=title, max_body=max_body, allowed_hosts=allowed_hosts)
    options: dict[str, Any] = {"redis": queue_or_redis_url, "prefix": prefix}
    if search is not None:
        options["search"] = search
    return Dashboard(Queue(**options), title=title, max_body=max_body, owns_queue=True, allowed_hosts=allowed_hosts)
