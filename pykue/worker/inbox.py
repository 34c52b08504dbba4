"""The outcomes waiting to be reported, with a doorbell for a reporter that waits on Redis.

With a report out, the reporter blocks on its reply; outcomes that arrive meanwhile used to
wait for that reply, so the worker and Redis took turns: the next batch left only once the
last came back, and at concurrency 10 an empty task ran no faster than the sum of the two
costs. Now the reporter waits on the reply's socket and on this doorbell (a pipe) at once:
an outcome put while it listens rings it, and the next batch goes out while Redis still
runs the last (up to REPORTS_IN_FLIGHT). A put costs one os.write only while the reporter
listens, and only the first put since the doorbell was last hushed: at concurrency 10 several
outcomes land during one wait, and one byte wakes the reporter as well as several.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """A SimpleQueue (``put``, ``get``, ``get_nowait``, ``empty``) for one consumer, which
    may listen for puts with :meth:`listen` while it waits on something else."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._lock = threading.Lock()  # a ring never meets a closed (perhaps reused) descriptor
        self._pipe: tuple[int, int] | None = None
        self._listening = False
        self._rung = False  # a byte is in the pipe (or on its way), unread since the last hush

    def put(self, item: T) -> None:
        self._queue.put(item)
        if self._listening and not self._rung:
            self._ring()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        return self._queue.get(block, timeout)

    def get_nowait(self) -> T:
        return self._queue.get_nowait()

    def empty(self) -> bool:
        return self._queue.empty()

    def listen(self) -> int:
        """From now until :meth:`stop_listening`, puts ring the doorbell: a file descriptor
        that turns readable. The consumer checks ``empty()`` after this call, not before: a
        put either lands before that check or rings."""
        with self._lock:
            if self._pipe is None:
                read, write = os.pipe()
                os.set_blocking(read, False)
                os.set_blocking(write, False)
                self._pipe = read, write
                self._rung = False
            self._listening = True
            return self._pipe[0]

    def stop_listening(self) -> None:
        self._listening = False

    def hush(self) -> None:
        """Empty the doorbell after it rang (a ring can also come late, after the wait); the
        next put rings again. The consumer checks ``empty()`` after this call: a put that found
        the bell still rung, and so did not ring, is seen there."""
        pipe = self._pipe
        if pipe is None:
            return
        try:
            while os.read(pipe[0], 4096):
                pass
        except BlockingIOError:
            pass
        self._rung = False

    def close(self) -> None:
        """Close the doorbell; the queue stays usable (puts no longer ring)."""
        with self._lock:
            self._listening = False
            pipe, self._pipe = self._pipe, None
        if pipe is not None:
            os.close(pipe[0])
            os.close(pipe[1])

    def _ring(self) -> None:
        with self._lock:
            if self._pipe is None or not self._listening or self._rung:
                return
            self._rung = True  # before the byte: a hush between the two must not leave it set
            try:
                os.write(self._pipe[1], b"\0")
            except BlockingIOError:  # the pipe is full: it rings already
                pass
