"""The reporter's complete_jobs calls, out in flight on a connection of their own
(``pykue.transport.in_flight``), their replies read in order while the worker starts jobs.

- ``pipelined``: whether the pool can spare that connection; if not, report through the
  client, one call at a time.
- ``send(now, done, worker_id, refill, claimed_at)``: one complete_jobs call, its reply
  unread. Raises if it was not sent whole: it did not run, and the replies of the calls out
  before it are lost with the dropped connection.
- ``receive()``: the oldest unread reply, as a ``Completion``. Raises ``NoScriptError`` (the
  call did not run), another ``redis.ResponseError`` (an error reply), or ``UnreadableReply``
  (it ran, but its reply is not complete_jobs' shape); with any other error the connection
  was lost, and the replies of the calls behind it with it.
- ``wait(doorbell)``: block until the oldest reply can be read (True) or the file descriptor
  ``doorbell`` turns readable (False).
- ``close()``: give the connection back to the pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..replies import Completion, parse_completion

if TYPE_CHECKING:
    from ..worker_store import WorkerStore


class UnreadableReply(Exception):
    """A complete_jobs reply of another shape: the call ran, but what it did is unknown."""


class ReportLine:
    def __init__(self, store: WorkerStore) -> None:
        self._store = store
        self._calls = store.calls_in_flight()
        self.pipelined = self._calls.possible

    def send(
        self, now: int, done: list[tuple[int, str, str]], worker_id: str, refill: dict[str, int], claimed_at: int
    ) -> None:
        self._calls.send(
            lambda conn, check_health: self._store.send_complete_jobs(
                conn, now, done, worker_id, refill, claimed_at, check_health
            )
        )

    def receive(self) -> Completion:
        reply = self._calls.receive()
        try:
            return parse_completion(reply)
        except Exception as error:
            raise UnreadableReply(f"an unreadable complete_jobs reply: {reply!r:.200}") from error

    def wait(self, doorbell: int) -> bool:
        return self._calls.wait_for_reply(doorbell)

    def close(self) -> None:
        self._calls.close()
