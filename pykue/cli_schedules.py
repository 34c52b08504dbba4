"""``pykue schedules``: the periodic jobs every worker fires, with their next run."""

from __future__ import annotations

import json

import click

from .cliparams import not_empty, prefix_option, redis_option
from .queue import Queue


@click.command(name="schedules")
@redis_option("Redis URL the workers share (redis://, rediss://, unix://, embedded://PATH).")
@prefix_option()
@click.option("--remove", "remove", metavar="NAME", callback=not_empty, help="Remove the schedule NAME instead.")
def schedules(redis_url: str, prefix: str, remove: str | None) -> None:
    """List the periodic jobs (name, type, when, next run in UTC), the next due first."""
    queue = Queue(redis_url, prefix)
    try:
        if remove is not None:
            if not queue.remove_schedule(remove):
                raise click.ClickException(f"no schedule named {remove!r}")
            click.echo(f"removed {remove}")
            return
        found = queue.schedules()
        if not found:
            click.echo("no schedules")
        for s in found:
            data = "" if not s.data else " " + json.dumps(s.data, sort_keys=True)
            when = s.next_run.strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{s.name}\t{s.type}\t{s.periodic.describe()}\tnext {when} UTC{data}")
    finally:
        queue.close()
