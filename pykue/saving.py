"""Saving drafts: validate them all, then store them in as few round trips as Redis allows
(or, in test mode, only record them), and hand back the stored jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from .draft import JobDraft
from .events import EventHub
from .exceptions import InvalidJobError
from .job import Job
from .job_hash import now_ms, stored_fields
from .store import Store
from .testmode import TestMode


def save_drafts(
    store: Store, events: EventHub, test_mode: TestMode, jobs: Sequence[JobDraft | Job], chunk: int
) -> list[Job]:
    """The jobs ``jobs`` became, in order; each is saved atomically, nothing if one is invalid.
    Many go out as pipelined calls of ``chunk`` jobs each."""
    saved = [job_id for job in jobs if (job_id := job.id) is not None]
    if saved:
        raise InvalidJobError("job", saved, "already saved")
    drafts = cast("list[JobDraft]", jobs)  # none is a Job: every Job has an id
    encoded = [draft.encode() for draft in drafts]  # validates every job before any write
    if test_mode.active and not test_mode.process:
        return test_mode.record(drafts)
    if not drafts:
        return []
    if any(draft.hears_own_events for draft in drafts):
        events.ensure_subscribed()
    now = now_ms()
    if len(encoded) == 1:
        ids = store.save_jobs(now, encoded)
        stored = [stored_fields(encoded[0], now)]
    else:
        ids, stored = _save_chunks(store, now, encoded, chunk)
    duplicated = _duplicated_jobs(store, ids)
    saved_jobs = [
        draft.stored(i, fields) if i > 0 else draft.duplicate(-i, duplicated[-i])
        for draft, i, fields in zip(drafts, ids, stored, strict=True)
    ]
    if test_mode.active:  # with process=True: saved and recorded
        test_mode.jobs.extend(saved_jobs)
    return saved_jobs


def _save_chunks(
    store: Store, now: int, encoded: list[list[Any]], chunk: int
) -> tuple[list[int], list[dict[str, str]]]:
    """Pipelined calls of ``chunk`` jobs; the stored hashes are made while Redis writes them."""
    stored: list[dict[str, str]] = []

    def describe() -> None:
        stored[:] = [stored_fields(args, now) for args in encoded]

    chunks = [encoded[start : start + chunk] for start in range(0, len(encoded), chunk)]
    return store.save_job_chunks(now, chunks, describe), stored


def _duplicated_jobs(store: Store, ids: list[int]) -> dict[int, dict[str, str]]:
    """The hashes of the jobs that unique drafts duplicate (save_jobs.lua gave minus their ids)."""
    held = sorted({-i for i in ids if i < 0})
    return dict(zip(held, store.jobs_fields(held))) if held else {}
