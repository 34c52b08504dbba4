"""The ``pykue`` command: ``worker``, ``pause``/``resume``, ``schedules`` (cli_schedules.py) and
(from pykue.web) ``dashboard``.
Each command parses its options, then calls the library."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

import click
import redis

from . import __version__, fleet_cli
from .cli_jobs import cancel, clean
from .cli_schedules import schedules as schedules_command
from .cliparams import Seconds, job_types, not_empty, prefix_option, redis_option
from .connection import describe
from .exceptions import PykueError
from .queue import Queue
from .redis_wait import DEFAULT_WAIT, transient, wait_for_redis


class AppError(click.ClickException):
    """A bad -A app: one line on stderr and exit code 2, like a usage error but without the usage."""

    exit_code = 2


WORKER_REDIS_HELP = (
    "Redis URL (redis://, rediss://, unix://, embedded://PATH) overriding the app Queue's own "
    "(a Queue given none reads $PYKUE_REDIS_URL)."
)
WORKER_PREFIX_HELP = "Key prefix overriding the app Queue's own (a Queue given none reads $PYKUE_PREFIX, else q)."
REDIS_HELP = "Redis URL (redis://, rediss://, unix://, embedded://PATH)."
#: How many known job types a warning lists.
MAX_TYPES_SHOWN = 10


class PykueGroup(click.Group):
    """Bad configuration or an unreachable Redis is one ``Error:`` line, never a traceback.
    ``dashboard`` is imported only when asked for: a worker needs no web stack at start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "dashboard"})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "dashboard" and name not in self.commands:
            from .web.command import dashboard

            self.add_command(dashboard)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PykueError as error:
            raise click.ClickException(str(error)) from None
        except redis.RedisError as error:
            raise click.ClickException(f"Redis: {error}") from None


@click.group(cls=PykueGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pykue")
def main() -> None:
    """pykue: a Kue-compatible Redis job queue."""


@main.command()
@click.option("-A", "--app", required=True, metavar="MODULE[:ATTR]", help="Module defining the Queue and its tasks.")
@click.option("--redis", "redis_url", metavar="URL", callback=not_empty, help=WORKER_REDIS_HELP)
@click.option("--prefix", callback=not_empty, help=WORKER_PREFIX_HELP)
@click.option("--concurrency", type=click.IntRange(min=1), help="Jobs at once per type, overriding every task's.")
@click.option("--types", metavar="T1,T2", callback=job_types, help="Process only these job types.")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes under a supervisor that restarts any that dies.",
)
@click.option(
    "--shutdown-timeout",
    type=Seconds(min=0),
    default=10.0,
    show_default=True,
    help="Seconds running jobs get after SIGTERM before they fail with 'Shutdown'.",
)
@click.option(
    "--promote-interval",
    type=Seconds(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds between promotions of due delayed jobs (and TTL checks).",
)
@click.option(
    "--stalled-timeout",
    type=Seconds(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds after which jobs of a worker that stopped heartbeating are retried.",
)
@click.option(
    "--loglevel",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
)
@click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
@click.option(
    "--wait-for-redis",
    type=Seconds(min=0),
    default=DEFAULT_WAIT,
    show_default=True,
    metavar="SECONDS",
    help="Seconds to wait, retrying with backoff, for a Redis that is not reachable yet at start-up (0: exit at once).",
)
@click.option(
    "--pin-cpu/--no-pin-cpu",
    default=None,
    help="Keep each worker process on one CPU (process k on the k-th it may use), its threads "
    "under SCHED_BATCH. Default: pinned where Linux allows, and unpinned again if the CPU turns "
    "out contested (tasks whose C code runs threads in parallel, a busy neighbour).",
)
@click.option(
    "--loop",
    "event_loop",
    type=click.Choice(["auto", "asyncio", "uvloop"]),
    default="auto",
    show_default=True,
    help="The event loop of async def tasks: auto takes uvloop where it is installed (pykue[fast]), else asyncio's.",
)
def worker(
    app: str,
    redis_url: str | None,
    prefix: str | None,
    concurrency: int | None,
    types: list[str] | None,
    processes: int,
    shutdown_timeout: float,
    promote_interval: float,
    stalled_timeout: float,
    loglevel: str,
    burst: bool,
    wait_for_redis: float,
    pin_cpu: bool | None,
    event_loop: str,
) -> None:
    """Process the jobs of the tasks defined in MODULE."""
    configure_logging(loglevel)
    if stalled_timeout < 2 * promote_interval:
        raise click.BadParameter("must be at least twice --promote-interval", param_hint="--stalled-timeout")
    from .worker import affinity

    if pin_cpu and not affinity.supported():
        raise click.BadParameter("needs Linux's sched_setaffinity; this platform has none", param_hint="--pin-cpu")
    from .worker.loader import LoadError, load_queues

    try:
        queues = load_queues(app)
    except LoadError as error:
        raise AppError(str(error)) from None
    settings = (app, queues, redis_url, prefix, concurrency, types, burst, shutdown_timeout, promote_interval)
    workers = _build_workers(*settings, stalled_timeout, event_loop)  # checks --types, for children too
    _reach_redis(workers, wait_for_redis)

    def run_child() -> None:  # a forked child: its own workers (ids, clients), pinned to its slot's CPU
        _pin(pin_cpu)
        _run_workers(_build_workers(*settings, stalled_timeout, event_loop))

    if processes > 1:
        from .worker.supervisor import Supervisor

        child_argv = _without_processes(sys.argv[1:])
        raise SystemExit(Supervisor(child_argv, processes, shutdown_timeout, burst, run_child).run())
    _pin(pin_cpu)
    _run_workers(workers)


def _pin(pin_cpu: bool | None) -> None:
    from .worker import affinity

    if pin_cpu or (pin_cpu is None and affinity.supported()):
        cpu = affinity.pin_to_cpu(watch=pin_cpu is None)
        logging.getLogger("pykue.worker").info("pinned to CPU %d", cpu)


def _without_processes(argv: list[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--processes":
            skip = True
            continue
        if arg.startswith("--processes="):
            continue
        out.append(arg)
    return out


def _build_workers(
    app: str,
    queues: list[Queue],
    redis_url: str | None,
    prefix: str | None,
    concurrency: int | None,
    wanted: list[str] | None,
    burst: bool,
    shutdown_timeout: float,
    promote_interval: float,
    stalled_timeout: float,
    event_loop: str,
) -> list[Any]:
    from .worker import Worker

    workers = []
    for queue in queues:
        if redis_url or prefix:
            queue.configure(redis=redis_url, prefix=prefix)
        chosen = [t for t in wanted if t in queue.tasks] if wanted else None
        if not queue.tasks or (wanted and not chosen):
            continue
        workers.append(
            Worker(
                queue,
                chosen,
                concurrency=concurrency,
                burst=burst,
                shutdown_timeout=shutdown_timeout,
                promote_interval=promote_interval,
                stalled_timeout=stalled_timeout,
                event_loop=event_loop,
            )
        )
    if wanted:
        known = {t for q in queues for t in q.tasks}
        missing = [t for t in wanted if t not in known]
        if missing:
            raise click.BadParameter(
                f"no task for type(s) {', '.join(missing)}; known: {', '.join(sorted(known))}", param_hint="--types"
            )
    if not workers:
        raise AppError(f"-A {app}: the app's Queue has no tasks: decorate functions with @queue.task")
    return workers


def _reach_redis(workers: list[Any], seconds: float) -> None:
    """Before any child process starts: wait for Redis (``--wait-for-redis``), or say why it is out of reach."""
    try:
        wait_for_redis([worker.queue for worker in workers], seconds)
    except redis.RedisError as error:
        where = ", ".join(dict.fromkeys(describe(worker.queue.client) for worker in workers))
        waited = f" (waited {seconds:g} s)" if seconds and transient(error) else ""
        raise click.ClickException(f"cannot reach Redis at {where}{waited}: {error}") from None


def _run_workers(workers: list[Any]) -> None:
    from .worker.supervisor import STOP_SIGNAL

    signals_seen = []

    def stop_all() -> None:
        """Off the signal handler: stop() takes locks and talks to Redis, and a handler runs
        on the main thread wherever it was, perhaps inside one of those locks."""
        for w in workers:
            w.stop()

    def on_signal(signum: int, frame: object) -> None:
        signals_seen.append(signum)
        if len(signals_seen) > 1:
            logging.getLogger("pykue").warning("second signal: exiting now")
            os._exit(1)
        logging.getLogger("pykue").info("shutting down (again to exit at once)")
        threading.Thread(target=stop_all, name="pykue-stop").start()

    def on_stop_request(signum: int, frame: object) -> None:
        logging.getLogger("pykue").info("shutting down (asked by the supervisor)")
        threading.Thread(target=stop_all, name="pykue-stop").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(STOP_SIGNAL, on_stop_request)
    try:
        threads = [threading.Thread(target=w.run, name="pykue-worker") for w in workers[1:]]
        for thread in threads:
            thread.start()
        workers[0].run()
        for thread in threads:
            thread.join()
    except PykueError as error:
        raise click.ClickException(str(error)) from None
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # do not wait for task threads that ignored the shutdown


def _pause_command(name: str, summary: str) -> None:
    @main.command(name=name, help=summary)
    @click.argument("job_type", callback=not_empty)
    @redis_option(REDIS_HELP)
    @prefix_option()
    def command(job_type: str, redis_url: str, prefix: str) -> None:
        queue = Queue(redis_url, prefix)
        getattr(queue, name)(job_type)
        click.echo(f"{name}d {job_type}")
        known = queue.types()
        if job_type not in known:
            click.echo(unknown_type_warning(job_type, known, f"{name}d", queue), err=True)


def unknown_type_warning(job_type: str, known: list[str], done: str, queue: Queue) -> str:
    """A typo in ``pykue pause`` must be visible; the type is paused all the same, since a
    worker may serve it before any job of it exists (no task list lives in Redis)."""
    listed = ", ".join(known[:MAX_TYPES_SHOWN]) + (", ..." if len(known) > MAX_TYPES_SHOWN else "") or "none"
    return (
        f"Warning: no job of type {job_type!r} was ever created in queue {queue.prefix!r} at "
        f"{describe(queue.client)} (types known: {listed}); {done} anyway, for a worker that may serve it"
    )


_pause_command("pause", "Stop every pykue worker on this Redis from taking jobs of JOB_TYPE.")
_pause_command("resume", "Let pykue workers take jobs of JOB_TYPE again.")
main.add_command(cancel)
main.add_command(clean)
main.add_command(schedules_command)
main.add_command(fleet_cli.workers)
main.add_command(fleet_cli.metrics)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
