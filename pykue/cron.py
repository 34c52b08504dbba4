"""When a periodic job is due: a cron expression (cronsim, with an optional leading seconds
field) in a timezone, or a fixed number of seconds.

Times are epoch milliseconds on Redis's clock, which every worker reads the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from .exceptions import InvalidJobError
from .fields import MAX_MS, is_finite


@dataclass(frozen=True)
class Periodic:
    """Exactly one of ``cron`` ("*/5 * * * *"; six fields put seconds first) and ``every``
    (seconds); ``timezone`` (an IANA name) is the one the cron fields are read in."""

    cron: str | None = None
    every: float | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            raise InvalidJobError("cron", self.cron, "give exactly one of cron=... and every=seconds")
        if self.every is not None and (not is_finite(self.every) or not 0.001 <= self.every <= MAX_MS / 1000):
            raise InvalidJobError("every", self.every, f"expected seconds from 0.001 to {MAX_MS // 1000}")
        if not isinstance(self.timezone, str):
            raise InvalidJobError("timezone", self.timezone, 'expected an IANA timezone name such as "Europe/Paris"')
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidJobError("timezone", self.timezone, "not a timezone this machine knows (IANA name)") from None
        if self.cron is not None:
            if not isinstance(self.cron, str):
                raise InvalidJobError("cron", self.cron, 'expected a cron expression such as "*/5 * * * *"')
            try:
                self.next_after(0)
            except CronSimError as error:
                raise InvalidJobError("cron", self.cron, f"not a cron expression ({error})") from None

    def next_after(self, now_ms: int, due_ms: int | None = None) -> int:
        """The first due time after ``now_ms``. With ``every``, due times keep their step
        from the last one (``due_ms``), skipping those missed: one run for a gap, not one per
        missed step."""
        if self.every is not None:
            step = max(1, round(self.every * 1000))
            if due_ms is None or due_ms > now_ms:
                return now_ms + step
            return due_ms + step * (math.floor((now_ms - due_ms) / step) + 1)
        assert self.cron is not None
        start = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(self.timezone))
        return round(next(CronSim(self.cron, start)).timestamp() * 1000)

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron}" + ("" if self.timezone == "UTC" else f" ({self.timezone})")
        return f"every {self.every:g}s"
