"""``pykue workers`` (who runs what, now) and ``pykue metrics`` (Prometheus without the dashboard)."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import click

from .cli_jobs import REDIS_HELP
from .cliparams import PORT, Seconds, prefix_option, redis_option
from .queue import Queue
from .registry import WorkerInfo


@click.command("workers", context_settings={"help_option_names": ["-h", "--help"]})
@redis_option(REDIS_HELP)
@prefix_option()
@click.option("--json", "as_json", is_flag=True, help="Print the workers as a JSON array (for scripts).")
@click.option("--watch", is_flag=True, help="Refresh the table until interrupted.")
@click.option("--interval", type=Seconds(min=0.2), default=2.0, show_default=True, help="Seconds between refreshes.")
def workers(redis_url: str, prefix: str, as_json: bool, watch: bool, interval: float) -> None:
    """The live pykue worker processes of the queue: host, pid, types, running jobs, counts."""
    queue = Queue(redis_url, prefix)
    try:
        while True:
            found = queue.workers()
            if as_json:
                click.echo(json.dumps([w.to_json() for w in found], indent=None if watch else 2))
            else:
                if watch:
                    click.clear()
                click.echo(worker_table(found))
            if not watch:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        queue.close()


COLUMNS = ("WORKER", "HOST", "PID", "UP", "TYPES", "RUNNING", "DONE", "FAILED", "HEARTBEAT")


def worker_table(found: list[WorkerInfo]) -> str:
    if not found:
        return "no live workers"
    rows = [COLUMNS, *(worker_row(w) for w in found)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def worker_row(w: WorkerInfo) -> tuple[str, ...]:
    types = ",".join(f"{t}×{n}" + (" (paused)" if t in w.paused else "") for t, n in sorted(w.types.items()))
    beat = f"STALE {w.heartbeat_age_ms / 1000:.0f}s ago" if w.stale else f"{w.heartbeat_age_ms / 1000:.1f}s ago"
    return (
        w.id,
        w.host,
        str(w.pid),
        span(w.seen_at - w.started_at),
        types,
        str(w.running_count),
        str(w.processed),
        str(w.failed),
        beat,
    )


def span(ms: int) -> str:
    seconds = max(0, ms // 1000)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@click.command("metrics", context_settings={"help_option_names": ["-h", "--help"]})
@redis_option(REDIS_HELP)
@prefix_option()
@click.option("-p", "--port", type=PORT, default=9464, show_default=True, help="Port to serve /metrics on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (0.0.0.0: the network).")
def metrics(redis_url: str, prefix: str, port: int, host: str) -> None:
    """Serve the queue's Prometheus metrics (as the dashboard's /metrics) without a dashboard."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from .metrics import registry_for

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # a scrape every 15 s is no news
            pass

    queue = Queue(redis_url, prefix)
    registry = registry_for(queue)  # a clear error when prometheus_client is missing
    queue.ping()
    from prometheus_client import make_wsgi_app

    server = make_server(host, port, make_wsgi_app(registry), handler_class=QuietHandler)
    click.echo(f"pykue metrics of queue {prefix!r} on http://{host}:{server.server_port}/metrics", err=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
            server.serve_forever()
    finally:
        server.server_close()
        queue.close()
