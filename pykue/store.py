"""A queue's storage: every read and write that Job and Queue make in Redis, in one object
bound to the queue's client, keys and scripts, so that neither reaches into the other's
attributes or formats a key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import redis

from .keys import Keys, strip_zid
from .replies import ReplyCode
from .scripts import Scripts
from .states import STATES
from .worker_store import WorkerStore


class Store:
    def __init__(self, client: redis.Redis, keys: Keys, scripts: Scripts) -> None:
        self.client = client
        self.keys = keys
        self.scripts = scripts

    def for_worker(self) -> WorkerStore:
        """The worker's side: claims, reports, upkeep, on the same client and keys."""
        return WorkerStore(self.client, self.keys, self.scripts)

    # -- saving -------------------------------------------------------------------------------

    def save_jobs(self, now: int, encoded_jobs: list[list[Any]]) -> list[int]:
        """One script call, through the held connection (``task.delay``'s path)."""
        return self.scripts.save_jobs(self.client, now, encoded_jobs)

    def save_job_chunks(
        self, now: int, chunks: list[list[list[Any]]], meanwhile: Callable[[], Any] | None = None
    ) -> list[int]:
        return self.scripts.save_job_chunks(self.client, now, chunks, meanwhile)

    def start_workflow(self, now: int, shape_json: str, steps: list[list[Any]]) -> int:
        return self.scripts.start_workflow(self.client, now, shape_json, steps)

    # -- one job's transitions ----------------------------------------------------------------

    def log_job(self, job_id: int, line: str, now: int, claim: str = "") -> ReplyCode:
        return self.scripts.log_job(self.client, job_id, line, now, claim)

    def progress_job(self, job_id: int, percent: int, data_json: str, now: int, claim: str = "") -> ReplyCode:
        return self.scripts.progress_job(self.client, job_id, percent, data_json, now, claim)

    def remove_job(self, job_id: int) -> str | None:
        """The removed job's type; None when there was no such job."""
        return self.scripts.remove_job(self.client, job_id)

    def set_state(self, job_id: int, state: str, now: int) -> str | None:
        """The job's state before; None when there is no such job."""
        return self.scripts.set_state(self.client, job_id, state, now)

    def set_priority(self, job_id: int, priority: int, now: int) -> bool:
        """False when there is no such job."""
        return self.scripts.set_priority(self.client, job_id, priority, now)

    def cancel_job(self, job_id: int, now: int, error: str, message_json: str) -> int:
        return self.scripts.cancel_job(self.client, job_id, now, error, message_json)

    def clean_page(
        self, state: str, job_type: str | None, cutoff: int, start: int, page: int, most: int
    ) -> tuple[int, int]:
        return self.scripts.clean(self.client, state, job_type, cutoff, start, page, most)

    # -- reading jobs -------------------------------------------------------------------------

    def job_fields(self, job_id: int) -> dict[str, str]:
        return cast("dict[str, str]", self.client.hgetall(self.keys.job(job_id)))

    def jobs_fields(self, ids: list[int]) -> list[dict[str, str]]:
        """The hashes of ``ids`` in one round trip ({} for a job that does not exist)."""
        pipe = self.client.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self.keys.job(job_id))
        return list(pipe.execute())

    def job_logs(self, job_id: int) -> list[str]:
        return cast("list[str]", self.client.lrange(self.keys.log(job_id), 0, -1))

    def _index(self, state: str | None, job_type: str | None) -> str:
        if state is None:
            return self.keys.jobs
        return self.keys.type_state(job_type, state) if job_type else self.keys.state(state)

    def ranked_ids(self, start: int, stop: int, state: str | None = None, job_type: str | None = None) -> list[int]:
        """Ids by rank in the index of all jobs, of a state, or of a type's state."""
        members = cast("list[str]", self.client.zrange(self._index(state, job_type), start, stop))
        return [strip_zid(m) for m in members]

    def count(self, state: str, job_type: str | None = None) -> int:
        return self.client.zcard(self._index(state, job_type))

    def counts(self, job_type: str | None = None) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=False)
        for state in STATES:
            pipe.zcard(self._index(state, job_type))
        return dict(zip(STATES, pipe.execute()))

    def search(self, words: Iterable[str]) -> list[tuple[str, float]]:
        """(id, score) of the jobs indexed under every word."""
        matches = self.client.zinter([self.keys.search_word(w) for w in words], withscores=True)
        return cast("list[tuple[str, float]]", matches)

    # -- queue-wide ---------------------------------------------------------------------------

    def types(self) -> set[str]:
        return cast("set[str]", self.client.smembers(self.keys.types))

    def work_time(self) -> int | None:
        value = self.client.get(self.keys.work_time)
        return int(value) if value is not None else None

    def setting(self, name: str) -> str | None:
        return cast("str | None", self.client.hget(self.keys.settings, name))

    def pause(self, job_type: str) -> None:
        self.client.sadd(self.keys.paused, job_type)

    def resume(self, job_type: str) -> None:
        self.client.srem(self.keys.paused, job_type)

    def paused_types(self) -> set[str]:
        return set(cast("set[str]", self.client.smembers(self.keys.paused)))

    def metrics(self, minutes: list[int]) -> tuple[list[int], list[int]]:
        """Jobs completed and failed in each of ``minutes`` (epoch minutes)."""
        pipe = self.client.pipeline(transaction=False)
        for kind in ("complete", "failed"):
            pipe.mget([self.keys.metric(kind, m) for m in minutes])
        complete, failed = pipe.execute()
        return [int(v or 0) for v in complete], [int(v or 0) for v in failed]
