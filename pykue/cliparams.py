"""Click parameter types and checks shared by the ``pykue`` commands, so that a value the
library would refuse (or silently misread) is a usage error naming the option instead."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

#: ``0`` asks the OS for a free port (the test suite's dashboards use it).
PORT = click.IntRange(0, 65535)

#: The worker's timers and Redis expiries cannot hold much more; a week is plenty.
MAX_SECONDS = 7 * 24 * 3600


class Seconds(click.FloatRange):
    """A finite number of seconds from ``min`` to a week: click's FloatRange lets ``nan``
    and ``inf`` through, and the worker would end in a traceback on either."""

    name = "seconds"

    def __init__(self, min: float) -> None:
        super().__init__(min=min, max=MAX_SECONDS)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


def not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An empty string must not pass for "not given" (which would mean the default)."""
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


def job_types(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """``--types email,video`` as a list; ``--types ''`` names no type and is refused."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("names no job type (expected T1,T2)", ctx=ctx, param=param)
    return names


F = TypeVar("F", bound=Callable[..., Any])


def prefix_option(*aliases: str) -> Callable[[F], F]:
    """``--prefix`` as the dashboard and the admin commands take it: ``PYKUE_PREFIX``, Kue's ``q``."""
    return click.option(
        *aliases,
        "--prefix",
        default="q",
        show_default=True,
        envvar="PYKUE_PREFIX",
        show_envvar=True,
        callback=not_empty,
        help="Key prefix of the queue.",
    )


def redis_option(help: str) -> Callable[[F], F]:
    """``--redis`` as the dashboard-free admin commands take it: ``PYKUE_REDIS_URL``, else the default URL."""
    from .connection import DEFAULT_URL

    return click.option(
        "--redis",
        "redis_url",
        envvar="PYKUE_REDIS_URL",
        show_envvar=True,
        metavar="URL",
        default=DEFAULT_URL,
        show_default=True,
        callback=not_empty,
        help=help,
    )
