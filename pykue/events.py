"""Kue's job events over Redis pub/sub: queue-level ``job <event>`` listeners, job-level
listeners and ``Job.wait``. One subscriber connection per Queue, opened on first need.

Listeners run on the subscriber thread; an exception in one is logged and reported to
the queue's ``error`` listeners, never allowed to stop delivery.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import redis

from .exceptions import InvalidJobError

log = logging.getLogger("pykue.events")
Listener = Callable[..., Any]
FINAL_EVENTS = ("complete", "failed", "remove")
REPLAY_SECONDS = 5.0  # how long a message for a job nobody listens to is kept for on_new_job


def check_listener(event: object, fn: object) -> None:
    """Refused when added, rather than failing on the subscriber thread at the first event."""
    if not isinstance(event, str) or not event:
        raise InvalidJobError("event", event, "expected an event name")
    if not callable(fn):
        raise InvalidJobError("listener", fn, "expected a callable")


class EventHub:
    def __init__(self, client: redis.Redis, channel: str, report_error: Callable[..., None]) -> None:
        self._client = client
        self._channel = channel
        self._report_error = report_error
        self._queue_listeners: dict[str, list[Listener]] = defaultdict(list)
        self._job_listeners: dict[int, dict[str, list[Listener]]] = defaultdict(lambda: defaultdict(list))
        self._unclaimed: deque[tuple[float, Any, str, list[Any]]] = deque(maxlen=5_000)
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub: Any = None

    def on(self, name: str, fn: Listener) -> None:
        """``name`` is Kue's queue-level event, e.g. ``job complete`` (args: id, *extra)."""
        with self._lock:
            self._queue_listeners[name].append(fn)
        self.ensure_subscribed()

    def off(self, name: str, fn: Listener | None = None) -> None:
        with self._lock:
            if fn is None:
                self._queue_listeners.pop(name, None)
            elif fn in self._queue_listeners.get(name, []):
                self._queue_listeners[name].remove(fn)

    def on_job(self, job_id: int, name: str, fn: Listener) -> None:
        with self._lock:
            self._job_listeners[int(job_id)][name].append(fn)
        self.ensure_subscribed()

    def on_new_job(self, job_id: int, listeners: list[tuple[str, Listener]]) -> None:
        """Listeners that may come after their events: a job this process has just saved (the
        save script published `enqueue` before the id was known here), or one ``wait()`` is
        asked about once it may have ended. Its messages of the last REPLAY_SECONDS that
        nobody listened to are replayed to them."""
        job_id = int(job_id)
        with self._lock:
            for name, fn in listeners:
                self._job_listeners[job_id][name].append(fn)
            horizon = time.monotonic() - REPLAY_SECONDS
            missed = [(name, args) for at, i, name, args in self._unclaimed if i == job_id and at >= horizon]
        self.ensure_subscribed()
        for name, args in missed:
            with self._lock:
                fns = self._take_job_listeners(job_id, name) or []
            for fn in fns:
                self._call(fn, *args)

    def off_job(self, job_id: int, name: str, fn: Listener) -> None:
        with self._lock:
            entry = self._job_listeners.get(int(job_id))
            listeners = entry.get(name, []) if entry else []
            if fn in listeners:
                listeners.remove(fn)
            if entry is not None and not any(entry.values()):
                self._job_listeners.pop(int(job_id), None)

    def ensure_subscribed(self, timeout: float = 10.0) -> None:
        """Return once Redis has confirmed the subscription, so no later event is missed."""
        with self._lock:
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="pykue-events", daemon=True)
                self._thread.start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"could not subscribe to {self._channel} within {timeout}s")

    def rebind(self, client: redis.Redis, channel: str) -> None:
        """Listen on another server or channel (a worker's --redis/--prefix), keeping every
        listener; subscribed again at once if any is registered."""
        self.close()
        self._client, self._channel = client, channel
        with self._lock:
            self._unclaimed.clear()
            listening = any(self._queue_listeners.values()) or bool(self._job_listeners)
        if listening:
            self.ensure_subscribed()

    def close(self) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5)
        self._subscribed.clear()

    def _run(self) -> None:
        delay = 0.1
        while not self._stopping.is_set():
            try:
                self._listen()
                delay = 0.1
            except Exception as error:  # noqa: BLE001 - e.g. NOPERM: the thread must not die silently
                self._subscribed.clear()
                self._report_error(error)
                self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)

    def _listen(self) -> None:
        pubsub = self._client.pubsub()
        try:
            pubsub.subscribe(self._channel)
            while not self._stopping.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self._subscribed.set()
                elif message["type"] == "message":
                    self.dispatch(message["data"])
        finally:
            pubsub.close()

    def dispatch(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            job_id, name, args = message["id"], message["event"], list(message.get("args") or [])[1:]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed event message %r", raw)
            return
        job_id = _as_int(job_id)
        with self._lock:
            queue_fns = list(self._queue_listeners.get("job " + name, ()))
            job_fns = self._take_job_listeners(job_id, name)
            if job_fns is None:
                now = time.monotonic()
                while self._unclaimed and self._unclaimed[0][0] < now - REPLAY_SECONDS:
                    self._unclaimed.popleft()
                self._unclaimed.append((now, job_id, name, args))
        for fn in queue_fns:
            self._call(fn, job_id, *args)
        for fn in job_fns or ():
            self._call(fn, *args)

    def _take_job_listeners(self, job_id: Any, name: str) -> list[Listener] | None:
        """The job's listeners for `name` (None: nobody listens to that job). Caller holds the lock."""
        entry = self._job_listeners.get(job_id)
        if entry is None:
            return None
        fns = list(entry.get(name, ()))
        if name in FINAL_EVENTS:
            self._job_listeners.pop(job_id, None)
        return fns

    def _call(self, fn: Listener, *args: Any) -> None:
        try:
            fn(*fit_arguments(fn, args))
        except Exception as error:  # a listener's bug must not stop event delivery
            log.exception("event listener %r failed", fn)
            self._report_error(error, logged=True)


def fit_arguments(fn: Listener, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Kue pads event args with nulls (``complete`` sends [result, null]); a JavaScript listener
    ignores extras, so a Python one gets as many as it accepts, missing ones as None."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return args
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return args
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    count = max(min(len(args), len(positional)), required)
    return tuple(args[:count]) + (None,) * (count - len(args))


def _as_int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


class Waiter:
    """Collects the final event of one job for ``Job.wait``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: tuple[str, Any] | None = None

    def complete(self, result: Any = None, *_: Any) -> None:
        self.outcome = ("complete", result)
        self.done.set()

    def failed(self, message: Any = None, *_: Any) -> None:
        self.outcome = ("failed", message)
        self.done.set()

    def removed(self, *_: Any) -> None:
        if self.outcome is None:
            self.outcome = ("remove", None)
            self.done.set()

    def wait(
        self, timeout: float | None, poll: Callable[[], tuple[str, Any] | None] | None = None, interval: float = 0.5
    ) -> bool:
        """Wait for the final event; every `interval` also ask `poll` (pub/sub is at-most-once,
        and an admin state change publishes no `complete` or `failed`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            if self.done.wait(interval if remaining is None else min(remaining, interval)):
                break
            outcome = poll() if poll is not None else None
            if outcome is not None and not self.done.is_set():
                self.outcome = outcome
                self.done.set()
        return True
