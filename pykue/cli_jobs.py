"""``pykue cancel`` and ``pykue clean``: acting on a queue's jobs from a shell (registered
on the ``pykue`` group in cli.py)."""

from __future__ import annotations

import math
from typing import Any

import click

from .cancel import CancelResult
from .cleanup import CLEANABLE
from .cliparams import not_empty, prefix_option, redis_option
from .exceptions import JobNotFoundError
from .queue import Queue

REDIS_HELP = "Redis URL (redis://, rediss://, unix://, embedded://PATH)."

SAID = {
    CancelResult.CANCELLED: "cancelled",
    CancelResult.STOPPING: "cancelled; its worker stops it within about a second",
    CancelResult.FINISHED: "already finished: left as it is",
}


class Age(click.ParamType):  # type: ignore[type-arg]
    """An age: seconds, or a number with a unit (``90s``, ``15m``, ``12h``, ``30d``)."""

    name = "age"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip().lower()
        unit = self.UNITS.get(text[-1:], 0)
        try:
            seconds = float(text[:-1] if unit else text) * (unit or 1)
        except ValueError:
            self.fail(f"{value!r} is not an age (expected seconds, or a number and s, m, h or d)", param, ctx)
        if not math.isfinite(seconds) or not 0 <= seconds <= 2**52 / 1000:
            self.fail(f"{value!r} is not an age from 0 to about 140,000 years", param, ctx)
        return seconds


@click.command()
@click.argument("job_ids", nargs=-1, required=True, type=click.IntRange(1, 10**19 - 1))
@click.option("--reason", default="", help="Stored in the error: 'Cancelled: <reason>'.")
@redis_option(REDIS_HELP)
@prefix_option()
def cancel(job_ids: tuple[int, ...], reason: str, redis_url: str, prefix: str) -> None:
    """Cancel jobs: queued or delayed ones fail with 'Cancelled: <reason>', never retried;
    running ones too, and their workers stop them."""
    queue = Queue(redis_url, prefix)
    missing = False
    for job_id in job_ids:
        try:
            click.echo(f"job {job_id}: {SAID[queue.cancel(job_id, reason)]}")
        except JobNotFoundError:
            click.echo(f"job {job_id}: no such job", err=True)
            missing = True
    if missing:
        raise SystemExit(1)


@click.command()
@click.argument("state", type=click.Choice(CLEANABLE))
@click.option("--older-than", type=Age(), default="0", show_default=True, help="Only jobs last updated before this.")
@click.option("--type", "job_type", callback=not_empty, help="Only jobs of this type.")
@click.option("--limit", type=click.IntRange(min=1), help="Remove at most this many.")
@redis_option(REDIS_HELP)
@prefix_option()
def clean(state: str, older_than: float, job_type: str | None, limit: int | None, redis_url: str, prefix: str) -> None:
    """Remove the jobs of STATE last updated more than --older-than ago (e.g. 30d)."""
    removed = Queue(redis_url, prefix).clean(state, older_than, job_type, limit)
    click.echo(f"removed {removed} {state} job{'' if removed == 1 else 's'}")
