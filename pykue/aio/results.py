"""``await job.await_result(timeout)``: a job's outcome without blocking the event loop.

One pub/sub subscription per event loop serves every coroutine that awaits a job: a final
event (complete, failed, remove) wakes the coroutines awaiting that job, which then read
the job's hash, as ``Job.wait`` does. Pub/sub is at-most-once and an admin state change
publishes nothing, so the hash is also read every ``POLL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any, cast

import redis
import redis.asyncio

from ..events import FINAL_EVENTS, REPLAY_SECONDS

if TYPE_CHECKING:
    from ..job import Job

log = logging.getLogger("pykue.aio")
POLL_SECONDS = 0.5
RECONNECT_SECONDS = 0.5


class Watch:
    """What one awaiting coroutine hears about its job: woken, with the event's outcome."""

    def __init__(self) -> None:
        self.woken = asyncio.Event()
        self.outcome: tuple[str, Any] | None = None


class JobEvents:
    """The final events of the jobs being awaited on one event loop, from one subscription."""

    def __init__(self, client: redis.asyncio.Redis, channel: str) -> None:
        self._client = client
        self._channel = channel
        self._watches: defaultdict[int, set[Watch]] = defaultdict(set)
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._keep = False  # listen even while nobody awaits (see ``listen``)
        self._unclaimed: deque[tuple[float, int, tuple[str, Any]]] = deque(maxlen=5_000)

    def watch(self, job_id: int) -> Watch:
        """A watch on ``job_id``; its events are heard once ``subscribed()`` returns, and its
        final event of the last REPLAY_SECONDS is there already if nobody was awaiting it."""
        watch = Watch()
        horizon = asyncio.get_running_loop().time() - REPLAY_SECONDS
        for at, unclaimed_id, outcome in self._unclaimed:
            if unclaimed_id == job_id and at >= horizon and (watch.outcome is None or watch.outcome[0] == "remove"):
                watch.outcome = outcome  # `complete` then `remove` (removeOnComplete): the result wins
        self._watches[job_id].add(watch)
        self._start()
        return watch

    async def listen(self) -> None:
        """Stay subscribed from now on (until ``close``), keeping the final events nobody
        awaits yet: a job saved with removeOnComplete keeps its result only in its
        ``complete`` event, which may come before anyone awaits it."""
        self._keep = True
        self._start()
        await self._subscribed.wait()

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="pykue-aio-events")

    async def subscribed(self) -> None:
        await self._subscribed.wait()

    def unwatch(self, job_id: int, watch: Watch) -> None:
        watches = self._watches.get(job_id)
        if watches is not None:
            watches.discard(watch)
            if not watches:
                del self._watches[job_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        """Listen while anyone awaits a job; on a lost connection, subscribe again (the
        awaiting coroutines' polls cover the gap)."""
        while self._watches or self._keep:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                while self._watches or self._keep:
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._subscribed.set()
                    elif message["type"] == "message":
                        self._dispatch(message["data"])
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                log.warning("job events subscription lost (%s); subscribing again", error)
                self._wake_all()  # their polls read the jobs meanwhile
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                self._subscribed.clear()
                await pubsub.aclose()

    def _dispatch(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            job_id, name, args = int(message["id"]), message["event"], list(message.get("args") or [])[1:]
        except (ValueError, KeyError, TypeError):
            return
        if name not in FINAL_EVENTS:
            return
        outcome = (name, args[0] if args else None)
        watches = self._watches.get(job_id)
        if not watches:
            if self._keep:
                self._unclaimed.append((asyncio.get_running_loop().time(), job_id, outcome))
            return
        for watch in watches:
            watch.outcome = watch.outcome or outcome
            watch.woken.set()

    def _wake_all(self) -> None:
        for watches in self._watches.values():
            for watch in watches:
                watch.woken.set()


async def await_result(
    events: JobEvents, client: redis.asyncio.Redis, job: Job, key: str, timeout: float | None
) -> Any:
    """``job``'s result once it completes; JobFailedError once it failed for good,
    JobNotFoundError if removed first, TimeoutError after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    watch = events.watch(job.id)
    failures_seen: set[str | None] = set()
    try:
        await asyncio.wait_for(events.subscribed(), timeout)  # from now on no final event is missed
        while True:
            outcome = await _outcome(client, job, key, watch, failures_seen)
            if outcome is not None:
                return job.result_of(outcome)
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"job {job.id} did not finish within {timeout}s")
            await _woken(watch, POLL_SECONDS if remaining is None else min(remaining, POLL_SECONDS))
    finally:
        events.unwatch(job.id, watch)


async def _outcome(
    client: redis.asyncio.Redis, job: Job, key: str, watch: Watch, failures_seen: set[str | None]
) -> tuple[str, Any] | None:
    """The final outcome, from the event if one came (as ``Job.wait``), else from the hash."""
    watch.woken.clear()  # an event from now on wakes the wait that follows
    fields = cast("dict[str, str]", await client.hgetall(key))
    if not fields.get("type"):  # removed; on completion (removeOnComplete) its event may be on its way
        if watch.outcome is None:
            await _woken(watch, 0.25)
        return watch.outcome or ("remove", None)
    settled = job.settled(fields, failures_seen)  # loads the hash: the stored error, in full
    if watch.outcome is not None and watch.outcome[0] != "remove":
        return watch.outcome
    return settled


async def _woken(watch: Watch, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(watch.woken.wait(), seconds)
