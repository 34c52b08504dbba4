"""Redis Sentinel and Redis Cluster: their URLs, and where the master of a queue's data is.

``redis+sentinel://[user:password@]host1:26379,host2:26379/MASTER_NAME[/DB]`` and
``redis+cluster://[user:password@]host1:7000,host2:7001[/]`` (``rediss+...`` for TLS), with
the client options of a ``redis://`` URL plus ``sentinel_username``/``sentinel_password``.
Either becomes a plain client that follows the master (``transport/follow.py``). On a cluster
pykue talks to one node, the master of the slot its hash-tagged prefix (``{name}``) hashes
to: every key of a queue lives in that slot, so every script runs whole on that node.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import redis
from redis.crc import key_slot
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool

__all__ = ["CLUSTER_SCHEMES", "SENTINEL_SCHEMES", "SentinelConnectionPool", "queue_slot", "rebound"]

from .exceptions import ConfigurationError
from .keys import Keys
from .redis_url import check_options, redact
from .transport import durable
from .transport.follow import Address, following_client

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
_SENTINEL_ONLY = ("sentinel_username", "sentinel_password")
#: Options that describe the connection itself: kept when a client's settings are copied.
_DROPPED_KWARGS = ("host", "port", "db", "decode_responses", "connection_pool", "connection_class", "retry")


def _address(kwargs: dict[str, Any]) -> str:
    return f"{kwargs.get('host')}:{kwargs.get('port')}"


# -- Sentinel -------------------------------------------------------------------------------------


class SentinelTopology:
    def __init__(self, sentinel: Sentinel, service: str, shown: str) -> None:
        self.sentinel = sentinel
        self.service = service
        self.shown = shown

    def master(self) -> Address:
        try:
            host, port = self.sentinel.discover_master(self.service)
        except MasterNotFoundError as error:  # its text holds a repr of each sentinel's client
            last = str(error).rsplit(" - ", 1)[-1]
            shown = f"no master {self.service!r} known to the sentinels of {self.shown}: {last}"
            raise MasterNotFoundError(shown) from None
        return str(host), int(port)

    def describe(self) -> str:
        return self.shown

    def switch_notices(self) -> Iterator[Address | None]:
        """Sentinel publishes ``+selected-slave`` as it picks the replica to promote: a client
        that leaves the old master then loses no write to it (it is demoted and resynced
        later, its last writes dropped). ``-failover-abort-*``: back to asking."""
        while True:
            for sentinel in list(self.sentinel.sentinels):
                pubsub = sentinel.pubsub(ignore_subscribe_messages=True)
                try:
                    pubsub.subscribe("+selected-slave", "+switch-master")
                    pubsub.psubscribe("-failover-abort-*")
                    while True:
                        yield self._chosen(pubsub.get_message(timeout=1.0))
                except redis.RedisError:
                    yield None
                finally:
                    pubsub.close()
            time.sleep(1.0)

    def _chosen(self, message: dict[str, Any] | None) -> Address | None:
        """The replica picked for our master, from ``slave <name> <ip> <port> @ <master> ...``."""
        if message is None or message.get("channel") not in ("+selected-slave", b"+selected-slave"):
            return None
        words = _text(message["data"]).split()
        if len(words) >= 6 and words[4] == "@" and words[5] == self.service and words[3].isdigit():
            return words[2], int(words[3])
        return None


def sentinel_from_url(url: str) -> redis.Redis:
    scheme, userinfo, hosts, path, options = _split(url, 26379)
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if not parts or len(parts) > 2:
        raise ConfigurationError(
            f"redis URL {redact(url)!r} must name the Sentinel master: "
            "redis+sentinel://host:26379,host2:26379/MASTER_NAME[/DB]"
        )
    service, db = parts[0], parts[1] if len(parts) == 2 else "0"
    if not (db.isascii() and db.isdigit()):
        raise ConfigurationError(f"redis URL {redact(url)!r}: the db ({db!r}) is not a database number")
    sentinel_kwargs = {k.removeprefix("sentinel_"): options.pop(k) for k in _SENTINEL_ONLY if k in options}
    kwargs = _client_kwargs(url, scheme, userinfo, options, db)
    ssl = kwargs.pop("ssl", False)
    sentinel_kwargs.update({k: v for k, v in kwargs.items() if k.startswith("socket_")})
    sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs)
    shown = f"{scheme}://{','.join(f'{h}:{p}' for h, p in hosts)}/{service}/{db}"
    return following_client(SentinelTopology(sentinel, service, shown), ssl=ssl, **kwargs)


def sentinel_from_client(client: redis.Redis) -> redis.Redis:
    """A Sentinel master client (``Sentinel.master_for``) as a following client with its settings."""
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    ssl = issubclass(pool.connection_class, redis.SSLConnection)
    kwargs = _copied_kwargs(pool.connection_kwargs)
    kwargs["db"] = pool.connection_kwargs.get("db", 0)
    hosts = ",".join(_address(s.connection_pool.connection_kwargs) for s in pool.sentinel_manager.sentinels)
    shown = f"{'rediss' if ssl else 'redis'}+sentinel://{hosts}/{pool.service_name}/{kwargs['db']}"
    return following_client(SentinelTopology(pool.sentinel_manager, pool.service_name, shown), ssl=ssl, **kwargs)


# -- Cluster --------------------------------------------------------------------------------------


class ClusterTopology:
    """The master of one slot, asked of the cluster's nodes (the seeds first, then every node
    seen since): CLUSTER SLOTS, as cluster clients do on MOVED."""

    def __init__(self, seeds: list[Address], probe_kwargs: dict[str, Any], shown: str, slot: int = 0) -> None:
        self.seeds = list(dict.fromkeys(seeds))
        self.probe_kwargs = probe_kwargs
        self.shown = shown
        self.slot = slot
        self._probes: dict[Address, redis.Redis] = {}

    def _probe(self, host: str, port: int) -> redis.Redis:
        """A client of its own for each node asked: looking up once a second must not open
        and close a connection each time."""
        probe = self._probes.get((host, port))
        if probe is None:
            probe = self._probes[host, port] = redis.Redis(host=host, port=port, **self.probe_kwargs)
        return probe

    def for_slot(self, slot: int) -> ClusterTopology:
        return ClusterTopology(self.seeds, self.probe_kwargs, self.shown, slot)

    def master(self) -> Address:
        errors = []
        for host, port in list(self.seeds):
            probe = self._probe(host, port)
            try:
                ranges = probe.execute_command("CLUSTER SLOTS")  # type: ignore[no-untyped-call]
            except redis.RedisError as error:
                probe.connection_pool.disconnect()
                errors.append(f"{host}:{port}: {error}")
                continue
            found = self._owner(ranges, host)
            if found is not None:
                return found
            errors.append(f"{host}:{port}: no node serves slot {self.slot}")
        raise redis.ConnectionError(f"no master found for slot {self.slot} of {self.shown}: {'; '.join(errors)}")

    def _owner(self, ranges: Any, asked: str) -> Address | None:
        owner = None
        for (start, end), nodes in _slot_ranges(ranges):
            nodes = [(host or asked, port) for host, port in nodes]  # "": the node asked
            self.seeds.extend(node for node in nodes if node not in self.seeds)
            if start <= self.slot <= end and nodes:
                owner = nodes[0]
        return owner

    def describe(self) -> str:
        return f"{self.shown} (slot {self.slot})"

    def switch_notices(self) -> None:
        return None


def _slot_ranges(reply: Any) -> Iterator[tuple[tuple[int, int], list[Address]]]:
    """CLUSTER SLOTS as redis-py parses it (a dict by range) or raw (a list of ranges)."""
    if isinstance(reply, dict):
        for (start, end), info in reply.items():
            nodes = [info["primary"], *info.get("replicas", [])]
            yield (int(start), int(end)), [(str(h), int(p)) for h, p, *_ in nodes]
    else:
        for start, end, *nodes in reply:
            yield (int(start), int(end)), [(_text(n[0]), int(n[1])) for n in nodes]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def cluster_from_url(url: str, prefix: str) -> redis.Redis:
    scheme, userinfo, hosts, path, options = _split(url, 6379)
    db = unquote(path).strip("/")
    if db not in ("", "0") or options.get("db", "0") != "0":
        raise ConfigurationError(f"redis URL {redact(url)!r}: a Redis Cluster has only db 0")
    options.pop("db", None)
    kwargs = _client_kwargs(url, scheme, userinfo, options, "0")
    kwargs.pop("db", None)
    ssl = kwargs.pop("ssl", False)
    return _cluster_client(hosts, kwargs, ssl, f"{scheme}://{','.join(f'{h}:{p}' for h, p in hosts)}", prefix)


def cluster_from_client(cluster: redis.RedisCluster, prefix: str) -> redis.Redis:
    """A ``RedisCluster`` serves as the seed list and the source of settings (password, TLS)."""
    node = cluster.get_default_node()  # type: ignore[no-untyped-call]
    assert node.redis_connection is not None
    pool = node.redis_connection.connection_pool
    ssl = issubclass(pool.connection_class, redis.SSLConnection)
    kwargs = _copied_kwargs(pool.connection_kwargs)
    hosts = [(n.host, int(n.port)) for n in cluster.get_nodes()]  # type: ignore[no-untyped-call]
    shown = f"{'rediss' if ssl else 'redis'}+cluster://{','.join(f'{h}:{p}' for h, p in hosts)}"
    return _cluster_client(hosts, kwargs, ssl, shown, prefix)


def _cluster_client(hosts: list[Address], kwargs: dict[str, Any], ssl: bool, shown: str, prefix: str) -> redis.Redis:
    slot = queue_slot(prefix)
    probe = {**kwargs, "socket_timeout": 2.0, "socket_connect_timeout": 2.0, "decode_responses": True}
    if ssl:
        probe["connection_class"] = redis.SSLConnection
    topology = ClusterTopology(hosts, probe, shown, slot)
    return following_client(topology, ssl=ssl, **kwargs)


def queue_slot(prefix: str) -> int:
    """The one slot of a queue's keys; a prefix whose keys would spread over slots is refused."""
    keys = Keys(prefix)
    slot = key_slot(keys.jobs.encode())
    if key_slot(keys.job(1).encode()) != slot or key_slot(keys.ids.encode()) != slot:
        raise ConfigurationError(
            f"prefix {prefix!r} has no hash tag: on a Redis Cluster a queue's keys must share one slot; "
            f"use a prefix such as '{{{prefix}}}' (Kue under ioredis and BullMQ do the same)"
        )
    return slot


def cluster_topology(client: Any) -> ClusterTopology | None:
    topology = getattr(getattr(client.connection_pool, "connection_class", None), "follower", None)
    found = getattr(topology, "topology", None)
    return found if isinstance(found, ClusterTopology) else None


def rebound(client: redis.Redis, prefix: str) -> redis.Redis:
    """The client for a queue of ``prefix``: on a cluster, one that follows that prefix's slot."""
    topology = cluster_topology(client)
    if topology is None:
        return client
    slot = queue_slot(prefix)
    if slot == topology.slot:
        return client
    kwargs = _copied_kwargs(client.connection_pool.connection_kwargs)
    ssl = issubclass(client.connection_pool.connection_class, redis.SSLConnection)
    return following_client(topology.for_slot(slot), ssl=ssl, **kwargs)


class Durability:
    """A queue's ``durable_replicas`` and ``durable_timeout_ms`` (see ``transport/durable.py``)."""

    def __init__(self, replicas: int | None, timeout_ms: int) -> None:
        self.replicas = None if replicas is None else _whole("durable_replicas", replicas, 0, 100)
        self.timeout_ms = _whole("durable_timeout_ms", timeout_ms, 1, 3_600_000)

    def applied(self, client: redis.Redis) -> redis.Redis:
        """``client``, its writes waiting for replicas from now on (None: as its URL said)."""
        if self.replicas is not None:
            durable.require(client, self.replicas, self.timeout_ms)
        return client


def _whole(name: str, value: object, least: int, most: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise ConfigurationError(f"{name} must be an integer from {least} to {most}, not {value!r}")
    return value


# -- parsing --------------------------------------------------------------------------------------


def _split(url: str, default_port: int) -> tuple[str, str, list[Address], str, dict[str, str]]:
    """scheme, user info, hosts, path and options of a URL naming several hosts."""
    scheme, _, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    netloc, _, netquery = netloc.partition("?")
    userinfo, _, hostlist = netloc.rpartition("@")
    hosts = [_host(url, item, default_port) for item in hostlist.split(",") if item.strip()]
    if not hosts:
        raise ConfigurationError(f"redis URL {redact(url)!r} names no host (expected {scheme}://host:port,...)")
    options = dict(parse_qsl(query or netquery, keep_blank_values=True))
    return scheme.lower(), userinfo, hosts, path, options


def _host(url: str, item: str, default_port: int) -> Address:
    item = item.strip()
    if item.startswith("["):  # [::1]:7000
        host, _, port = item[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = item.partition(":")
    if not port:
        return host, default_port
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ConfigurationError(f"redis URL {redact(url)!r}: {item!r} has no valid port")
    return host, int(port)


def _client_kwargs(url: str, scheme: str, userinfo: str, options: dict[str, str], db: str) -> dict[str, Any]:
    """The options of the master's connections, read as redis-py reads a ``redis://`` URL."""
    check_options(url, options)
    plain = f"{'rediss' if scheme.startswith('rediss') else 'redis'}://{userinfo + '@' if userinfo else ''}h/{db}"
    try:
        query = "?" + urlencode(options) if options else ""
        kwargs = redis.connection.parse_url(plain + query)  # type: ignore[no-untyped-call]
    except ValueError as error:
        raise ConfigurationError(f"invalid redis URL {redact(url)!r}: {error}") from None
    ssl = kwargs.pop("connection_class", None) is redis.SSLConnection
    kwargs.pop("host", None)
    kwargs.pop("decode_responses", None)
    return {**kwargs, "ssl": ssl} if ssl else kwargs


def _copied_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The settings of another client's connections that a connection and a client both
    take (a cluster node's pool also holds routing objects of redis-py's own)."""
    return {k: v for k, v in kwargs.items() if k in _SHARED_KWARGS and k not in _DROPPED_KWARGS}


def _parameters(function: Any) -> set[str]:
    return set(inspect.signature(function).parameters)


_SHARED_KWARGS = _parameters(redis.Redis.__init__) & (
    _parameters(redis.Connection.__init__) | _parameters(redis.SSLConnection.__init__)
)
