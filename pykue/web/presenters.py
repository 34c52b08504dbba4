"""How jobs and counts look on the wire: shared by the JSON API and the HTML pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The five states in menu order, with the labels Kue's UI gives them.
STATES: tuple[tuple[str, str], ...] = (
    ("inactive", "Queued"),
    ("active", "Active"),
    ("delayed", "Delayed"),
    ("failed", "Failed"),
    ("complete", "Complete"),
)


def job_json(job: Any, string_id: bool = False) -> dict[str, Any]:
    """Kue's ``toJSON``. Kue sends the id as a string only when it came from a URL."""
    body: dict[str, Any] = job.to_json()
    if string_id:
        body["id"] = str(body["id"])
    return body


def stats_json(counts: Mapping[str, int], work_time: int | None) -> dict[str, Any]:
    """``GET /stats`` in the key order Kue was observed to answer with."""
    return {
        "inactiveCount": counts["inactive"],
        "completeCount": counts["complete"],
        "activeCount": counts["active"],
        "failedCount": counts["failed"],
        "delayedCount": counts["delayed"],
        "workTime": work_time,
    }
