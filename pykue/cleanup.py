"""What keeps a queue's Redis bounded, on the Queue's side: its default retention rules,
applied to every draft it creates, and ``queue.clean`` (scripts/clean.lua, page by page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import InvalidJobError
from .fields import check_count, check_retention, check_seconds
from .job_hash import now_ms

if TYPE_CHECKING:
    from .draft import JobDraft
    from .store import Store


class Retention:
    """A Queue's default rules, applied to every draft it creates (tasks and jobs may override)."""

    def __init__(self, on_complete: Any = None, on_fail: Any = None) -> None:
        self.on_complete = None if on_complete is None else check_retention("remove_on_complete", on_complete)
        self.on_fail = None if on_fail is None else check_retention("remove_on_fail", on_fail)

    def apply(self, draft: JobDraft) -> JobDraft:
        if self.on_complete is not None:
            draft.remove_on_complete(self.on_complete)
        if self.on_fail is not None:
            draft.remove_on_fail(self.on_fail)
        return draft


CLEANABLE = ("complete", "failed", "delayed", "inactive")
CLEAN_PAGE = 500  # ids one clean.lua call looks at: Redis is never blocked long


def clean(store: Store, state: str, older_than: float, job_type: str | None, limit: int | None) -> int:
    """Remove the jobs of ``state`` (of ``job_type``, else of every type) last updated more
    than ``older_than`` seconds ago, at most ``limit``; returns how many were removed."""
    if state not in CLEANABLE:
        raise InvalidJobError("state", state, f"expected one of {', '.join(CLEANABLE)} (active jobs are cancelled)")
    cutoff = now_ms() - int(check_seconds("older_than", older_than) * 1000)
    left = check_count("limit", limit, 2**53) if limit is not None else 2**53
    removed, start = 0, 0
    while start >= 0 and removed < left:
        start, n = store.clean_page(state, job_type, cutoff, start, CLEAN_PAGE, left - removed)
        removed += n
    return removed
