"""Turn what a user gives as ``redis=`` into a redis-py client (Kue's connection forms too).

Accepted: a URL (``redis://``, ``rediss://``, ``unix://``, ``embedded://PATH``), a dict in
Kue's form (host, port, auth/password, db, socket, options), a ready ``redis.Redis``,
or a zero-argument factory returning one (Kue's ``createClientFactory``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import topology
from .embedded import ensure_embedded_server
from .exceptions import ConfigurationError
from .redis_url import check_options, redact, split_durability
from .transport.follow import follower_of

__all__ = ["DEFAULT_URL", "RedisSpec", "connect", "default_url", "describe", "redact", "unreachable"]

DEFAULT_URL = "redis://127.0.0.1:6379/0"
Client = redis.Redis | redis.RedisCluster
RedisSpec = str | dict[str, Any] | Client | Callable[[], Client] | None

_URL_SCHEMES = ("redis", "rediss", "unix")


def default_url() -> str:
    return os.environ.get("PYKUE_REDIS_URL") or DEFAULT_URL


def connect(spec: RedisSpec = None, prefix: str | None = None) -> redis.Redis:
    """A client with ``decode_responses=True``, which every part of pykue expects. On a Redis
    Cluster it talks to the master of ``prefix``'s slot (default ``$PYKUE_PREFIX``, else ``q``)."""
    if spec is None:
        spec = default_url()
    if prefix is None:
        prefix = os.environ.get("PYKUE_PREFIX") or "q"
    if isinstance(spec, str):
        url, durability = split_durability(spec)
        client = _from_url(url, prefix)
        replicas = durability.get("durable_replicas")
        return topology.Durability(replicas, durability.get("durable_timeout_ms", 1000)).applied(client)
    if isinstance(spec, dict):
        return _from_kue_options(spec)
    if isinstance(spec, (redis.Redis, redis.RedisCluster)):
        return _from_client(spec, prefix)
    if callable(spec):
        made = spec()
        if not isinstance(made, (redis.Redis, redis.RedisCluster)):
            raise ConfigurationError(
                f"redis factory returned {type(made).__name__}, expected redis.Redis or redis.RedisCluster"
            )
        return _from_client(made, prefix)
    raise ConfigurationError(
        f"redis must be a URL, a dict, a redis.Redis, a redis.RedisCluster or a factory, not {type(spec).__name__}"
    )


def _from_client(client: Client, prefix: str) -> redis.Redis:
    if isinstance(client, redis.RedisCluster):
        return topology.cluster_from_client(client, prefix)
    if isinstance(client.connection_pool, topology.SentinelConnectionPool):
        return topology.sentinel_from_client(client)
    return topology.rebound(_decoding(client), prefix)


def describe(client: redis.Redis) -> str:
    """Where a client points, without its password (for logs and banners)."""
    follower = follower_of(client)
    if follower is not None:
        where = "not looked up yet" if follower.address is None else "{}:{}".format(*follower.address)
        return f"{follower.topology.describe()}, master {where}"
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def unreachable(client: redis.Redis, timeout: float = 2.0) -> str | None:
    """Why ``client`` cannot talk to its server right now, or None: one PING on a separate
    connection, so that a start-up check neither waits out redis-py's retries nor a long
    connect timeout, and leaves the client's own pool untouched."""
    pool = client.connection_pool
    no_retry = Retry(NoBackoff(), 0)
    kwargs = {**pool.connection_kwargs, "socket_connect_timeout": timeout, "socket_timeout": timeout, "retry": no_retry}
    probe = redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs), retry=no_retry
    )
    try:
        probe.ping()
    except redis.RedisError as error:
        return f"cannot reach Redis at {describe(client)}: {error}"
    finally:
        probe.connection_pool.disconnect()
    return None


def _from_url(url: str, prefix: str) -> redis.Redis:
    if url.split("://", 1)[0].lower() in topology.SENTINEL_SCHEMES:
        return topology.sentinel_from_url(url)
    if url.split("://", 1)[0].lower() in topology.CLUSTER_SCHEMES:
        return topology.cluster_from_url(url, prefix)
    parts = urlsplit(url)
    if parts.scheme == "embedded":
        return _from_embedded_url(url, parts.netloc + parts.path, parts.query)
    if parts.scheme not in _URL_SCHEMES:
        raise ConfigurationError(
            f"redis URL {redact(url)!r} must start with redis://, rediss://, unix://, embedded://, "
            "redis+sentinel://, redis+cluster:// (or rediss+...)"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    check_options(url, query)
    db_path = unquote(parts.path).strip("/")
    if parts.scheme != "unix" and db_path:  # a unix:// path is the socket's
        _check_db(url, db_path, "path")
    for name, value in query:
        if name == "db":
            _check_db(url, value, "query")
    try:
        return redis.Redis.from_url(url, decode_responses=True)
    except ValueError as error:
        raise ConfigurationError(f"invalid redis URL {redact(url)!r}: {error}") from None


def _from_embedded_url(url: str, path: str, query: str) -> redis.Redis:
    options = dict(parse_qsl(query, keep_blank_values=True))
    if set(options) - {"db"}:
        raise ConfigurationError(f"unknown option(s) {sorted(set(options) - {'db'})} in {redact(url)!r}; only db")
    db = options.get("db", "0")
    _check_db(url, db, "query")
    sock = ensure_embedded_server(path or "pykue-data")
    return redis.Redis(unix_socket_path=sock, db=int(db), decode_responses=True)


def _check_db(url: str, db: str, where: str) -> None:
    """redis-py reads ``/abc`` as no db at all (so db 0) and ``/1/2`` as db 12."""
    if not (db.isascii() and db.isdigit()):
        raise ConfigurationError(
            f"redis URL {redact(url)!r}: the db in its {where} ({db!r}) is not a database "
            "number (expected redis://host:6379/0 or ?db=0)"
        )


def _from_kue_options(options: dict[str, Any]) -> redis.Redis:
    known = {"host", "port", "auth", "password", "db", "socket", "options", "username"}
    unknown = set(options) - known
    if unknown:
        raise ConfigurationError(f"unknown redis option(s) {sorted(unknown)}; expected some of {sorted(known)}")
    extra = dict(options.get("options") or {})
    try:
        db = int(options.get("db") or 0)
    except (TypeError, ValueError):
        raise ConfigurationError(f"redis db must be a number, got {options.get('db')!r}") from None
    kwargs: dict[str, Any] = {
        "db": db,
        "password": options.get("password") or options.get("auth"),
        "username": options.get("username"),
        "decode_responses": True,
    }
    if options.get("socket"):
        kwargs["unix_socket_path"] = options["socket"]
    else:
        kwargs["host"] = options.get("host") or "127.0.0.1"
        try:
            kwargs["port"] = int(options.get("port") or 6379)
        except (TypeError, ValueError):
            raise ConfigurationError(f"redis port must be a number, got {options.get('port')!r}") from None
    try:
        return redis.Redis(**kwargs, **extra)
    except TypeError as error:
        raise ConfigurationError(f"bad redis options {extra!r}: {error}") from None


def _decoding(client: redis.Redis) -> redis.Redis:
    pool = client.connection_pool
    if pool.connection_kwargs.get("decode_responses"):
        return client
    kwargs = {**pool.connection_kwargs, "decode_responses": True}
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))
