"""``pykue dashboard``: Kue's ``kue-dashboard`` with the same flags, plus --host, --title and --auth.

Bound to a loopback address (the default), the dashboard answers only to the loopback
names, the ``--host`` value and each ``--allowed-host``: any other ``Host`` header gets
``400``, which defeats DNS rebinding (see :mod:`pykue.web.hosts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..cliparams import PORT, not_empty, prefix_option
from ..connection import DEFAULT_URL, unreachable
from .auth import BasicAuth, parse_credentials
from .hosts import AllowedHosts, dashboard_allowed_hosts

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def split_names(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """``--allowed-host a --allowed-host b,c`` and ``PYKUE_DASHBOARD_ALLOWED_HOSTS=a,b,c`` alike."""
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def build_app(
    redis_url: str,
    *,
    prefix: str = "q",
    title: str = "pykue",
    search: bool = False,
    host: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
    credentials: tuple[str, str] | None = None,
) -> tuple[Any, Any]:
    """The command's (dashboard, WSGI application to serve): the Host allowlist, then basic auth."""
    from .app import create_app

    app = create_app(
        redis_url, prefix=prefix, title=title, search=search, allowed_hosts=dashboard_allowed_hosts(host, allowed_hosts)
    )
    if not credentials:
        return app, app
    wsgi: WSGIApplication = BasicAuth(app, *credentials)
    if app.allowed_hosts is not None:  # a rebound page gets 400, never a password prompt
        wsgi = AllowedHosts(wsgi, app.allowed_hosts)
    return app, wsgi


@click.command("dashboard", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-p", "--port", type=PORT, default=3000, show_default=True, help="Port to listen on (0 picks a free one)."
)
@click.option(
    "-r",
    "--redis",
    "redis_url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="PYKUE_REDIS_URL",
    show_envvar=True,
    callback=not_empty,
    help="Redis URL (redis://, rediss://, unix://, embedded://PATH).",
)
@prefix_option("-q")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; 0.0.0.0 exposes the dashboard to the network.",
)
@click.option("--title", default="pykue", show_default=True, help="Title shown in the header.")
@click.option(
    "--auth", envvar="PYKUE_DASHBOARD_AUTH", show_envvar=True, metavar="USER:PASSWORD", help="Require HTTP basic auth."
)
@click.option(
    "--search/--no-search", default=False, show_default=True, help="Enable /job/search over the full-text index."
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    callback=split_names,
    envvar="PYKUE_DASHBOARD_ALLOWED_HOSTS",
    show_envvar=True,
    help="Also answer requests for this host name (repeatable; behind a proxy). Bound to "
    "loopback, only localhost, 127.0.0.1, [::1], --host and these are answered; bound "
    "elsewhere, any name is unless this is given (the env var is comma-separated).",
)
@click.option("--access-log", is_flag=True, help="Log every request (the page polls every second or two).")
def dashboard(
    port: int,
    redis_url: str,
    prefix: str,
    host: str,
    title: str,
    auth: str | None,
    search: bool,
    allowed_hosts: tuple[str, ...],
    access_log: bool,
) -> None:
    """Serve the dashboard and Kue's JSON API for one queue."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class RequestHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if access_log:
                super().log_request(code, size)

    credentials = None
    if auth:
        try:
            credentials = parse_credentials(auth)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--auth") from None
    app, wsgi = build_app(
        redis_url,
        prefix=prefix,
        title=title,
        search=search,
        host=host,
        allowed_hosts=allowed_hosts,
        credentials=credentials,
    )
    server = make_server(host, port, wsgi, threaded=True, request_handler=RequestHandler)
    warn_if_unreachable(app.queue.client)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"Running on http://{shown_host}:{server.server_port}" + (" (basic auth)" if credentials else ""))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()


def warn_if_unreachable(client: Any) -> None:
    """Redis may well come up after the dashboard, so this only warns."""
    reason = unreachable(client)
    if reason:
        click.echo(f"Warning: {reason}", err=True)
