"""The reporter's own connection, held out of the pool so that complete_jobs calls can be
out in flight on it, their replies read in order while the worker starts jobs.

Interface (one thread uses it):

- ``pipelined``: whether the pool can spare the connection (a plain pool with room; not a
  small or blocking one). If not, report through the client, one call at a time.
- ``send(now, done, worker_id, refill, claimed_at)``: send one complete_jobs call without
  reading its reply. Raises if it was not sent whole: it did not run, and the replies of
  the calls out before it are lost with the dropped connection.
- ``receive()``: the oldest unread reply, as a ``Completion``. Raises ``NoScriptError``
  (the call did not run), another ``redis.ResponseError`` (an error reply), or
  ``UnreadableReply`` (it ran, but its reply is not complete_jobs' shape); with any other
  error the connection was lost, dropped, and the replies of the calls behind it with it.
- ``close()``: give the connection back to the pool.

Only with no reply out does redis-py run a due health check, and is the connection checked
as the pool would check it on checkout (``ready``): a PING then would read a call's reply.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import redis

from ..scripts import Completion, parse_completion, ready, spares_a_connection

if TYPE_CHECKING:
    from ..scripts import Scripts


class UnreadableReply(Exception):
    """A complete_jobs reply of another shape: the call ran, but what it did is unknown."""


class ReportLine:
    def __init__(self, client: redis.Redis, scripts: Scripts) -> None:
        self._pool = client.connection_pool
        self._scripts = scripts
        self._conn: Any = None
        self._out = 0  # calls sent whose replies are unread
        self.pipelined = spares_a_connection(self._pool)

    def send(self, now: int, done: list[tuple[int, str, str]], worker_id: str, refill: dict[str, int],
             claimed_at: int) -> None:
        idle = not self._out
        try:
            if self._conn is None:
                self._conn = self._pool.get_connection()
            elif idle:
                ready(self._conn)
            self._scripts.send_complete_jobs(self._conn, now, done, worker_id, refill, claimed_at, check_health=idle)
        except Exception:  # not sent whole (an outage, a failed reconnect, a bug)
            self._drop()
            raise
        self._out += 1

    def receive(self) -> Completion:
        self._out -= 1
        try:
            reply = self._conn.read_response()
        except redis.ResponseError:  # an error reply read whole: the connection is still in step
            raise
        except Exception:
            self._drop()
            raise
        try:
            return parse_completion(reply)
        except Exception as error:
            raise UnreadableReply(f"an unreadable complete_jobs reply: {reply!r:.200}") from error

    def close(self) -> None:
        conn, self._conn, self._out = self._conn, None, 0
        if conn is not None:
            self._pool.release(conn)

    def _drop(self) -> None:
        self._out = 0
        if self._conn is not None:
            self._conn.disconnect()

