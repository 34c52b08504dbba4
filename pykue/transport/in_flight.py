"""A connection held out of the pool so that several calls can be out on it at once, their
replies read later in order: the worker sends its next report while Redis runs the last.

Only with no reply out does redis-py run a due health check, and is the connection checked
as the pool would check it on checkout (``ready``): a PING then would read a call's reply.
One thread uses an instance.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import Any

import redis

from . import durable, functions
from .lane import ready, spares_a_connection

_HAS_POLL = hasattr(select, "poll")
Write = Callable[[Any, bool], None]
"""Sends one call on the connection without reading its reply: ``write(conn, check_health)``."""


class CallsInFlight:
    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._conn: Any = None
        self._out = 0  # calls sent whose replies are unread
        self.possible = spares_a_connection(self._pool) and durable.required(self._pool) is None
        """False for a small or blocking pool, which cannot spare the connection, or with
        durable writes on (each call waits for its replicas): call one at a time through the
        client there."""

    def send(self, write: Write) -> None:
        """Raises if the call was not sent whole: it did not run, and the replies of the calls
        out before it are lost with the dropped connection."""
        idle = not self._out
        try:
            if self._conn is None:
                self._conn = self._pool.get_connection()
            elif idle:
                ready(self._conn)
            write(self._conn, idle)
        except Exception:  # not sent whole (an outage, a failed reconnect, a bug)
            self._drop()
            raise
        self._out += 1

    def receive(self) -> Any:
        """The oldest unread reply. An error reply read whole raises its ``redis.ResponseError``
        (``NoScriptError``: the call did not run, its script or function not loaded, or FCALL
        refused) and leaves the connection in step; any other
        error drops the connection, and the replies of the calls behind it with it."""
        self._out -= 1
        try:
            return self._conn.read_response()
        except redis.ResponseError as error:
            raise functions.checked(error) from None
        except Exception:
            self._drop()
            raise

    def wait_for_reply(self, doorbell: int) -> bool:
        """Block until the oldest reply can be read (True) or ``doorbell``, a file descriptor,
        turns readable (False). A reply already buffered counts; so does a closed or broken
        connection (``receive`` then raises), and so does the connection's ``socket_timeout``
        passing with neither: ``receive`` then waits that long again and raises, as a silent
        connection must not hold the reports forever. The socket is redis-py's private
        ``_sock``: without it (or without poll), only the reply is waited for."""
        conn = self._conn
        sock = getattr(conn, "_sock", None)
        try:
            if sock is None or not _HAS_POLL or conn.can_read(0):
                return True
        except Exception:  # broken: receive() meets the error and drops the connection
            return True
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        poller.register(doorbell, select.POLLIN)
        timeout = getattr(conn, "socket_timeout", None)
        ready = {fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)}
        return doorbell not in ready or sock.fileno() in ready

    def close(self) -> None:
        """Give the connection back to the pool."""
        conn, self._conn, self._out = self._conn, None, 0
        if conn is not None:
            self._pool.release(conn)

    def _drop(self) -> None:
        self._out = 0
        if self._conn is not None:
            self._conn.disconnect()
