"""Private Redis deployments for the Sentinel and Cluster tests, on free loopback ports.

``ClusterServers``: six redis-server nodes made into a cluster of three masters, each with a
replica, by ``redis-cli --cluster create``. ``SentinelServers``: a master, its replica and
three sentinels watching it under the name ``mymaster``. Both start in a few seconds; the
failover timeouts are short so that a test sees a failover within seconds.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from pykue.embedded import find_redis_server, wait_until
from tests.redis_server import RedisServer, free_port, terminate

NODE_TIMEOUT_MS = 1000
SENTINEL_DOWN_AFTER_MS = 2000  # a loaded 2-core machine can keep a master from answering for a second


def cluster_port() -> int:
    """A free port whose cluster bus port (10000 above) is free too, and below 65536."""
    while True:
        port = free_port()
        if port < 55000 and _free(port + 10000):
            return port


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _node_args(extra: list[str]) -> list[str]:
    return ["--appendonly", "no", "--save", "", *extra]


class ClusterServers:
    def __init__(self, masters: int = 3) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="pykue-cluster-"))
        args = ["--cluster-enabled", "yes", "--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        self.nodes = [
            RedisServer(self.workdir / f"node{i}", port=cluster_port(), extra_args=_node_args(args))
            for i in range(masters * 2)
        ]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:2])

    def start(self) -> ClusterServers:
        for node in self.nodes:
            node.start()
        command = ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes)]
        subprocess.run([*command, "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True)
        wait_until(self._ok, 30, "the cluster to be ok")
        return self

    def _ok(self) -> bool:
        for node in self.nodes:
            if node.process is None:
                continue
            info = self.client(node).cluster("info")
            if info.get("cluster_state") != "ok":
                return False
        return all(len(self.replicas_of(m)) == 1 for m in self.masters())

    def client(self, node: RedisServer) -> redis.Redis:
        return redis.Redis(port=node.port, decode_responses=True, socket_timeout=5)

    def healthy(self) -> bool:
        """Every node up, the cluster ok, and each master with a replica in sync."""
        try:
            return (
                all(n.process is not None for n in self.nodes)
                and self._ok()
                and all(in_sync(self.client(m)) for m in self.masters())
            )
        except redis.RedisError:
            return False

    def node_at(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def masters(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.process is not None and self.role(n) == "master"]

    def role(self, node: RedisServer) -> str:
        return str(self.client(node).execute_command("ROLE")[0])

    def replicas_of(self, master: RedisServer) -> list[RedisServer]:
        replicas = self.client(master).execute_command("ROLE")[2]
        return [self.node_at(int(port)) for _host, port, *_ in replicas]

    def master_of(self, prefix: str) -> RedisServer:
        """The node that serves ``prefix``'s slot now, as the cluster itself says."""
        slot = redis.crc.key_slot(f"{prefix}:jobs".encode())
        for node in self.nodes:
            if node.process is None:
                continue
            for start, end, (_host, port, *_), *_ in self.client(node).execute_command("CLUSTER SLOTS"):
                if start <= slot <= end:
                    return self.node_at(int(port))
        raise AssertionError(f"no master serves slot {slot}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def in_sync(master: redis.Redis) -> bool:
    info = master.info("replication")
    return bool(info.get("connected_slaves") and info.get("slave0", {}).get("state") == "online")


def _named_master(sentinel: Sentinel) -> int | None:
    try:
        return int(sentinel.client().sentinel_get_master_addr_by_name("mymaster")[1])
    except redis.ConnectionError:
        return None


class Sentinel:
    """One redis-server in sentinel mode, configured to watch ``master`` as ``mymaster``."""

    def __init__(self, workdir: Path, master_port: int, quorum: int = 2) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / f"sentinel-{self.port}.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {workdir}\n"
            f"sentinel monitor mymaster 127.0.0.1 {master_port} {quorum}\n"
            f"sentinel down-after-milliseconds mymaster {SENTINEL_DOWN_AFTER_MS}\n"
            "sentinel failover-timeout mymaster 5000\n"
            "sentinel parallel-syncs mymaster 1\n"
        )
        self.process: subprocess.Popen[Any] | None = None

    def start(self) -> Sentinel:
        self.process = subprocess.Popen(
            [find_redis_server(), str(self.config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._ready, 10, f"sentinel on port {self.port}")
        return self

    def _ready(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
        self.process = None


class SentinelServers:
    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="pykue-sentinel-"))
        self.first = RedisServer(self.workdir / "a", extra_args=_node_args([]))
        self.second = RedisServer(self.workdir / "b", extra_args=_node_args([]))
        self.sentinels: list[Sentinel] = []

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels) + "/mymaster/0"

    def start(self) -> SentinelServers:
        self.first.start()
        self.second.extra_args += ["--replicaof", "127.0.0.1", str(self.first.port)]
        self.second.start()
        self.sentinels = [Sentinel(self.workdir, self.first.port).start() for _ in range(3)]
        wait_until(self._ok, 30, "the sentinels to know the master, its replica and each other")
        return self

    def _ok(self) -> bool:
        for sentinel in self.sentinels:
            state = sentinel.client().sentinel_master("mymaster")
            if state.get("num-slaves", 0) < 1 or state.get("num-other-sentinels", 0) < 2:
                return False
        return self.replica_in_sync()

    def replica_in_sync(self) -> bool:
        return in_sync(self.client(self.master()))

    def healthy(self) -> bool:
        try:
            return self.first.process is not None and self.second.process is not None and self._ok()
        except redis.RedisError:
            return False

    def client(self, node: RedisServer) -> redis.Redis:
        return redis.Redis(port=node.port, decode_responses=True, socket_timeout=5)

    def master_port(self) -> int:
        for sentinel in self.sentinels:
            try:
                return int(sentinel.client().sentinel_get_master_addr_by_name("mymaster")[1])
            except redis.ConnectionError:
                continue
        raise AssertionError("no sentinel answers")

    def master(self) -> RedisServer:
        port = self.master_port()
        return self.first if self.first.port == port else self.second

    def replica(self) -> RedisServer:
        return self.second if self.master() is self.first else self.first

    def wait_for_new_master(self, old_port: int, timeout: float = 30.0) -> None:
        """Until every sentinel names another master than ``old_port``."""
        deadline = time.monotonic() + timeout
        while any(_named_master(s) in (None, old_port) for s in self.sentinels):
            if time.monotonic() > deadline:
                raise AssertionError("no failover")
            time.sleep(0.1)

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        self.first.stop()
        self.second.stop()
