"""``pykue dashboard``: Kue's ``kue-dashboard`` with the same flags, plus --host, --title and --auth."""
from __future__ import annotations

import click

from .auth import BasicAuth
from .auth import parse_credentials


@click.command("dashboard", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-p", "--port", type=int, default=3000, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("-r", "--redis", "redis_url", default="redis://127.0.0.1:6379", show_default=True,
              envvar="PYKUE_REDIS_URL", help="Redis URL [env PYKUE_REDIS_URL].")
@click.option("-q", "--prefix", default="q", show_default=True, envvar="PYKUE_PREFIX",
              help="Key prefix of the queue [env PYKUE_PREFIX].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; 0.0.0.0 exposes the dashboard to the network.")
@click.option("--title", default="pykue", show_default=True, help="Title shown in the header.")
@click.option("--auth", envvar="PYKUE_DASHBOARD_AUTH", metavar="USER:PASSWORD",
              help="Require HTTP basic auth [env PYKUE_DASHBOARD_AUTH].")
@click.option("--search/--no-search", default=False, show_default=True,
              help="Enable /job/search over the full-text index.")
@click.option("--access-log", is_flag=True, help="Log every request (the page polls every second or two).")
def dashboard(port: int, redis_url: str, prefix: str, host: str, title: str, auth: str | None,
              search: bool, access_log: bool) -> None:
    """Serve the dashboard and Kue's JSON API for one queue."""
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server

    class RequestHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if access_log:
                super().log_request(code, size)

    from .app import create_app

    credentials = None
    if auth:
        try:
            credentials = parse_credentials(auth)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--auth") from None
    app = create_app(redis_url, prefix=prefix, title=title, search=search)
    wsgi = BasicAuth(app, *credentials) if credentials else app
    server = make_server(host, port, wsgi, threaded=True, request_handler=RequestHandler)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"Running on http://{shown_host}:{server.server_port}" + (" (basic auth)" if credentials else ""))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()
