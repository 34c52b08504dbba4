"""The asyncio client of a Queue: redis.asyncio mirroring the Queue's own redis-py client.

A redis.asyncio connection belongs to the event loop that opened it, so each loop gets its
own pool (an application may run several loops one after another, ``asyncio.run`` in tests
or a CLI). The pool is bounded and blocking: a burst of coroutines waits for a connection
instead of opening thousands of them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.connection as aconnection
import redis.connection

from ..exceptions import ConfigurationError

MAX_CONNECTIONS = 64  # per event loop; a save holds one for a round trip only
AsyncClientSpec = redis.asyncio.Redis | Callable[[], redis.asyncio.Redis] | None

_CONNECTION_CLASSES: dict[type[Any], type[aconnection.AbstractConnection]] = {
    redis.connection.Connection: aconnection.Connection,
    redis.connection.SSLConnection: aconnection.SSLConnection,
    redis.connection.UnixDomainSocketConnection: aconnection.UnixDomainSocketConnection,
}
_MIRRORED = (
    "host",
    "port",
    "path",
    "db",
    "username",
    "password",
    "credential_provider",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_keepalive",
    "socket_keepalive_options",
    "health_check_interval",
    "client_name",
    "protocol",
    "encoding",
    "encoding_errors",
    "ssl_keyfile",
    "ssl_certfile",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_ca_data",
    "ssl_ca_path",
    "ssl_check_hostname",
    "ssl_password",
    "ssl_min_version",
    "ssl_ciphers",
)


def mirror(client: redis.Redis) -> Callable[[], redis.asyncio.Redis]:
    """A factory of asyncio clients to the server ``client`` talks to; ConfigurationError now,
    not at the first ``await``, when its connections are of a kind this cannot mirror."""
    pool: Any = getattr(client, "connection_pool", None)  # a cluster client has none
    kind = type(client).__name__ if pool is None else f"{type(pool).__name__} of {pool.connection_class.__name__}"
    connection_class = None if pool is None else _CONNECTION_CLASSES.get(pool.connection_class)
    if connection_class is None or type(pool) not in (redis.ConnectionPool, redis.BlockingConnectionPool):
        raise ConfigurationError(
            "the asyncio producer mirrors redis://, rediss://, unix:// and embedded:// connections; "
            f"this queue's client uses {kind}: give it an asyncio client with "
            "queue.use_async_redis(factory)"
        )
    kwargs = {name: value for name, value in pool.connection_kwargs.items() if name in _MIRRORED}

    def make() -> redis.asyncio.Redis:
        apool = redis.asyncio.BlockingConnectionPool(
            max_connections=MAX_CONNECTIONS,
            timeout=None,
            connection_class=connection_class,
            **kwargs,
            decode_responses=True,
        )
        return redis.asyncio.Redis(connection_pool=apool)

    return make


class LoopClients:
    """One asyncio client per running event loop, made by ``factory`` on first use there."""

    def __init__(self, factory: Callable[[], redis.asyncio.Redis]) -> None:
        self.factory = factory
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )

    def current(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self.factory()
            if not client.connection_pool.connection_kwargs.get("decode_responses"):
                raise ConfigurationError("the asyncio client must be made with decode_responses=True")
        return client

    async def aclose(self) -> None:
        """Close the running loop's client (the others belong to loops that cannot run here)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
