"""Connections that follow a master when it moves (a Sentinel or Redis Cluster failover).

pykue holds connections for long (the lane, calls in flight, the BLPOP behind a claim,
pub/sub) and sends its scripts on them directly, so redis-py's own followers do not fit:
a Sentinel pool looks the master up only when a connection is made, and a held connection
keeps talking to a demoted master until it is resynced (~10 s of acknowledged writes lost
in a planned failover); ``RedisCluster`` routes commands, not held connections.

So a followed client is a plain ``redis.Redis`` on a plain pool (the lane and calls in
flight keep working) whose connection class asks a :class:`Follower` where the master is
each time it connects. The follower looks the master up once a second and at once when a
connection meets a sign of failover (MOVED, READONLY, CLUSTERDOWN, a refused connection,
Sentinel's ``+switch-master``); when the master moved it disconnects every connection of
the pool, in use or not, so each reconnects to the new master.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any, Protocol

import redis

log = logging.getLogger("pykue")

Address = tuple[str, int]

#: Replies that mean the server is no master of the data (any more), or is between masters:
#: the command did not run. redis-py parses the first ones into classes; the others by prefix.
FAILOVER_ERRORS = (
    redis.exceptions.AskError,  # and MovedError
    redis.exceptions.ReadOnlyError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.MasterDownError,
)
_MOVED_PREFIXES = ("MOVED", "ASK", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "UNBLOCKED", "NOREPLICAS")


class MasterMovedError(redis.ConnectionError):
    """The server answered as no master of the queue's data: a failover is under way or done.
    A ConnectionError, so that every path that rides out an outage (the worker's loops, the
    dashboard's 503) rides this one out too; the command did not run."""


def is_failover_reply(error: BaseException) -> bool:
    if isinstance(error, FAILOVER_ERRORS):
        return True
    return isinstance(error, redis.ResponseError) and str(error).startswith(_MOVED_PREFIXES)


class Topology(Protocol):
    """Where the master of a queue's data is, asked of Sentinel or of a cluster's nodes."""

    def master(self) -> Address:
        """The master's address now; raises redis.ConnectionError when none is known."""
        ...

    def describe(self) -> str:
        """The deployment, without passwords (for logs, banners and the dashboard)."""
        ...

    def switch_notices(self) -> Iterator[Address | None] | None:
        """Yields the address of the master to be, at once when the deployment picks it
        (Sentinel's ``+selected-slave``), and None at least every second or when a failover
        ended; None when the deployment announces nothing."""
        ...


class Follower:
    """The current master of one topology, for one pool's connections."""

    def __init__(self, topology: Topology, interval: float = 1.0) -> None:
        self.topology = topology
        self.interval = interval
        self.address: Address | None = None  # looked up at the first connection, not before
        self._pools: weakref.WeakSet[Any] = weakref.WeakSet()
        self._noticed = threading.Event()
        self._lock = threading.Lock()
        self._watcher_pid = 0
        self._held: tuple[Address, float] | None = None  # (the master left, until when)
        self.switches = 0

    def master(self) -> Address:
        """Where to connect: the master last seen, else the one the deployment names now."""
        if self.address is None:
            self.address = self.topology.master()
        return self.address

    def attach(self, pool: Any) -> None:
        self._pools.add(pool)

    def notice(self) -> None:
        """A connection met a sign of failover: look the master up now."""
        self._noticed.set()
        self.ensure_watching()

    def ensure_watching(self) -> None:
        """Start the watcher in this process (a forked worker has none of its parent's threads)."""
        if self._watcher_pid == os.getpid():
            return
        with self._lock:
            if self._watcher_pid != os.getpid():
                self._watcher_pid = os.getpid()
                threading.Thread(target=_watch, args=(weakref.ref(self),), name="pykue-master", daemon=True).start()

    def check(self) -> bool:
        """Look the master up; when it moved, drop every connection to the old one."""
        self._noticed.clear()
        try:
            address = self.topology.master()
        except redis.RedisError as error:
            log.debug("cannot look up the master of %s: %s", self.topology.describe(), error)
            return False
        if self._held is not None:
            left, until = self._held
            if address == left and time.monotonic() < until:
                return False  # the deployment has not switched yet
            self._held = None
        return self._move(address)

    def leave_for(self, address: Address, seconds: float = 10.0) -> None:
        """The deployment is promoting ``address``: leave the master now, before it is demoted
        (writes it takes from now on are lost), and refuse to go back to it for ``seconds``
        unless the failover is called off. Until the promotion, writes meet READONLY."""
        left = self.address
        if self._move(address) and left is not None:
            self._held = (left, time.monotonic() + seconds)

    def _move(self, address: Address) -> bool:
        if address == self.address:
            return False
        if self.address is None:
            self.address = address
            return False
        log.warning("the master of %s moved from %s:%s to %s:%s", self.topology.describe(), *self.address, *address)
        self.address = address
        self.switches += 1
        for pool in list(self._pools):
            pool.disconnect()  # in use too: a held connection must not write to a demoted master
        return True

    def wait(self) -> None:
        self._noticed.wait(self.interval)


def _watch(ref: weakref.ref[Follower]) -> None:
    """The follower's thread: ends soon after the follower is gone (its client closed and collected)."""
    notices: Iterator[Address | None] | None = None
    while True:
        follower = ref()
        if follower is None:
            return
        if notices is None:
            notices = follower.topology.switch_notices()
        chosen = None
        if notices is not None:
            chosen = next(notices, None)
        else:
            follower.wait()
        if chosen is not None:
            follower.leave_for(chosen)
        else:
            follower.check()
        del follower


def following_class(base: type[redis.Connection], follower: Follower) -> type[redis.Connection]:
    """A connection class that connects to ``follower``'s master and reports signs of failover."""

    class MasterConnection(base):  # type: ignore[valid-type,misc]
        def connect_check_health(self, *args: Any, **kwargs: Any) -> Any:
            follower.ensure_watching()
            try:
                self.host, self.port = follower.master()
                return super().connect_check_health(*args, **kwargs)
            except redis.ConnectionError:
                follower.notice()
                raise

        def read_response(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().read_response(*args, **kwargs)
            except redis.ResponseError as error:
                if not is_failover_reply(error):
                    raise
                follower.notice()
                self.disconnect()  # replies behind this one are not worth reading
                raise MasterMovedError(f"{error} (at {self.host}:{self.port})") from error

    MasterConnection.__name__ = MasterConnection.__qualname__ = f"Master{base.__name__}"
    MasterConnection.follower = follower
    return MasterConnection


def follower_of(client: Any) -> Follower | None:
    """The follower behind a client made by :func:`following_client`, else None."""
    pool = getattr(client, "connection_pool", None)
    found = getattr(getattr(pool, "connection_class", None), "follower", None)
    return found if isinstance(found, Follower) else None


def following_client(topology: Topology, ssl: bool = False, **kwargs: Any) -> redis.Redis:
    """A ``decode_responses`` client on a plain pool whose connections follow the master."""
    follower = Follower(topology)
    base = redis.SSLConnection if ssl else redis.Connection
    pool = redis.ConnectionPool(connection_class=following_class(base, follower), decode_responses=True, **kwargs)
    follower.attach(pool)
    follower.ensure_watching()
    return redis.Redis(connection_pool=pool)
