"""Saving drafts: validate them all, then store them in as few round trips as Redis allows
(or, in test mode, only record them), and hand back the stored jobs.

The sync path is ``save_drafts``; the asyncio producer (aio/) shares every step but the
round trip itself: ``encode_drafts`` before it, ``stored_jobs`` after it."""

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


def encode_drafts(jobs: Sequence[JobDraft | Job]) -> tuple[list[JobDraft], list[list[Any]]]:
    """The drafts and their save_jobs.lua arguments; raises before any write if one is invalid."""
    saved = [job_id for job in jobs if (job_id := job.id) is not None]
    if saved:
        raise InvalidJobError("job", saved, "already saved")
    drafts = cast("list[JobDraft]", jobs)  # none is a Job: every Job has an id
    return drafts, [draft.encode() for draft in drafts]  # validates every job before any write


def save_drafts(
    store: Store, events: EventHub, test_mode: TestMode, jobs: Sequence[JobDraft | Job], chunk: int
) -> list[Job]:
    """The jobs ``jobs`` became, in order; each is saved atomically, nothing if one is invalid.
    Many go out as pipelined calls of ``chunk`` jobs each."""
    drafts, encoded = encode_drafts(jobs)
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
    return stored_jobs(test_mode, drafts, ids, stored, _duplicated_jobs(store, ids))


def stored_jobs(
    test_mode: TestMode,
    drafts: list[JobDraft],
    ids: list[int],
    stored: list[dict[str, str]],
    duplicated: dict[int, dict[str, str]],
) -> list[Job]:
    """The jobs the drafts became once Redis gave them ``ids``, their hashes as ``stored``; a
    unique draft that an existing job holds back got minus that job's id, whose hash is in
    ``duplicated``."""
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

    return store.save_job_chunks(now, chunks_of(encoded, chunk), describe), stored


def chunks_of(encoded: list[list[Any]], chunk: int) -> list[list[list[Any]]]:
    return [encoded[start : start + chunk] for start in range(0, len(encoded), chunk)]


def duplicated_ids(ids: list[int]) -> list[int]:
    """The jobs that unique drafts duplicate (save_jobs.lua gave minus their ids)."""
    return sorted({-i for i in ids if i < 0})


def _duplicated_jobs(store: Store, ids: list[int]) -> dict[int, dict[str, str]]:
    held = duplicated_ids(ids)
    return dict(zip(held, store.jobs_fields(held))) if held else {}
