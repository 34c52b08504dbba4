"""The asyncio side of a Queue (``queue.aio``): saving jobs, reading them and awaiting their
results on redis.asyncio, without a thread per call.

It shares everything but the round trip with the sync side: drafts are built and checked by
the same code (task.py, draft.py, fields.py), encoded by the same code (saving.py,
job_hash.py), and saved by the same Lua script (save_jobs.lua), so a job saved here is
byte for byte the job ``delay`` saves, and Node Kue reads it the same way.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import redis
import redis.asyncio

from ..draft import JobDraft
from ..events import EventHub
from ..job import Job
from ..job_hash import now_ms, stored_fields
from ..keys import Keys
from ..saving import chunks_of, duplicated_ids, encode_drafts, stored_jobs
from ..scripts import Scripts
from ..states import STATES
from ..testmode import TestMode
from ..transport import durable
from .calls import call_many
from .clients import AsyncClientSpec, LoopClients, mirror
from .results import JobEvents, await_result


class ProducerQueue(Protocol):
    """What the asyncio side uses of its Queue (queue.py sits above this module)."""

    @property
    def client(self) -> redis.Redis: ...
    @property
    def keys(self) -> Keys: ...
    @property
    def scripts(self) -> Scripts: ...
    @property
    def events(self) -> EventHub: ...
    @property
    def test_mode(self) -> TestMode: ...
    @property
    def job_events(self) -> bool: ...


class AsyncProducer:
    """``queue.aio``: safe to share between any number of coroutines of any event loop."""

    def __init__(self, queue: ProducerQueue, factory: AsyncClientSpec = None, chunk: int = 250) -> None:
        self.queue = queue
        self.chunk = chunk
        self._clients = LoopClients(_factory(factory) if factory is not None else mirror(queue.client))
        self._events: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, JobEvents] = weakref.WeakKeyDictionary()

    @property
    def client(self) -> redis.asyncio.Redis:
        """The running event loop's client (made on first use there)."""
        return self._clients.current()

    async def save_jobs(self, jobs: Sequence[JobDraft | Job]) -> list[Job]:
        """``queue.save_jobs`` awaited: every draft checked before any write, then one
        save_jobs.lua call per ``chunk`` jobs, sent together on one connection."""
        drafts, encoded = encode_drafts(jobs)
        test_mode = self.queue.test_mode
        if test_mode.active and not test_mode.process:
            return test_mode.record(drafts)
        if not drafts:
            return []
        if any(draft.hears_own_events for draft in drafts):
            self.queue.events.ensure_subscribed()  # the sync hub delivers job.on(...) listeners
        if any(_removed_as_it_completes(draft.remove_on_complete()) for draft in drafts):
            await self._job_events().listen()  # their results live only in their events
        now = now_ms()
        calls = [self.queue.scripts.save_call(now, chunk) for chunk in chunks_of(encoded, self.chunk)]
        script, keys, _ = calls[0]
        need = durable.required(self.queue.client.connection_pool)  # the Queue's durable writes, if any
        groups = await call_many(self.client, script, keys, [args for _, _, args in calls], need)
        ids = [int(i) for group in groups for i in group]
        stored = [stored_fields(args, now) for args in encoded]
        return stored_jobs(test_mode, drafts, ids, stored, await self._duplicated(ids))

    async def _duplicated(self, ids: list[int]) -> dict[int, dict[str, str]]:
        """The hashes of the jobs unique drafts duplicate (saving.py's ``duplicated_ids``)."""
        held = duplicated_ids(ids)
        if not held:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for job_id in held:
                pipe.hgetall(self.queue.keys.job(job_id))
            return dict(zip(held, await pipe.execute()))

    async def job_fields(self, job_id: int) -> dict[str, str]:
        return cast("dict[str, str]", await self.client.hgetall(self.queue.keys.job(job_id)))

    async def counts(self, job_type: str | None = None) -> dict[str, int]:
        keys = self.queue.keys
        async with self.client.pipeline(transaction=False) as pipe:
            for state in STATES:
                pipe.zcard(keys.type_state(job_type, state) if job_type else keys.state(state))
            replies = await pipe.execute()
        return dict(zip(STATES, replies))

    async def await_result(self, job: Job, timeout: float | None) -> Any:
        return await await_result(self._job_events(), self.client, job, self.queue.keys.job(job.id), timeout)

    def _job_events(self) -> JobEvents:
        """The running event loop's subscription to job events."""
        loop = asyncio.get_running_loop()
        events = self._events.get(loop)
        if events is None:
            events = self._events[loop] = JobEvents(self.client, self.queue.keys.events)
        return events

    async def aclose(self) -> None:
        """Close the running loop's subscription and client."""
        events = self._events.pop(asyncio.get_running_loop(), None)
        if events is not None:
            await events.close()
        await self._clients.aclose()


def _factory(spec: redis.asyncio.Redis | Callable[[], redis.asyncio.Redis]) -> Callable[[], redis.asyncio.Redis]:
    if isinstance(spec, redis.asyncio.Redis):
        return lambda: spec
    return spec


def _removed_as_it_completes(rule: bool | int | dict[str, Any]) -> bool:
    """Whether a job's result may be gone the moment it completes (True, or a count or age of
    0): only then must a later ``await_result`` have been listening for its event. A count
    or age rule keeps it long enough to be read from its hash, as most Queue defaults do."""
    if isinstance(rule, dict):
        return rule.get("count") == 0 or rule.get("age") == 0
    return rule is True or (rule is not False and rule == 0)
