"""A master fails in the middle of a 2,000-job run with two worker processes: on Redis Cluster
and under Sentinel, by a crash (SIGKILL), a crash while its replica lags (cut off for half a
second first) and a planned failover. With durable writes (``?durable_replicas=1``) no
acknowledged job is lost; without, the loss is measured and reported (a lagging replica
loses what it had not received). No run leaves a job active."""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

import pytest
import redis

from pykue import Queue
from tests.failover_run import failover_run
from tests.ha_servers import ClusterServers, SentinelServers, in_sync
from tests.helpers import wait_for

PREFIX = "{ha}"
HA_APP = "tests.workerapp.ha_app"


@contextmanager
def lagging(master, replica, lag: float):
    """For ``lag`` seconds before the crash the master cannot reach its replica (the link
    dropped, the replica stopped so that it cannot reconnect): what the master acknowledged
    meanwhile never reaches the replica promoted in its place."""
    if lag:
        os.kill(replica.process.pid, signal.SIGSTOP)
        redis.Redis(port=master.port).client_kill_filter(_type="replica")
        time.sleep(lag)
    try:
        yield
    finally:
        if lag:
            os.kill(replica.process.pid, signal.SIGCONT)


def kill(node) -> None:
    node.process.kill()
    node.process.wait()
    node.process = None


def crash_cluster_master(cluster: ClusterServers, lag: float = 0.0) -> None:
    master = cluster.master_of(PREFIX)
    replica = cluster.replicas_of(master)[0]
    with lagging(master, replica, lag):
        kill(master)
    wait_for(lambda: cluster.role(replica) == "master", 30, 0.1, "the replica to take over")
    restart_empty(master, ["--cluster-replica-no-failover", "yes"])  # it rejoins as the new master's replica
    master.extra_args = _without(master.extra_args, {"--cluster-replica-no-failover": 1})  # for its next restart
    wait_for(lambda: in_sync(cluster.client(replica)), 30, 0.1, "the restarted node to resync")
    cluster.client(master).config_set("cluster-replica-no-failover", "no")


def restart_empty(node, args: list[str]) -> None:
    """As an operator would restart a node that lost its data: as a replica that cannot be
    promoted until it has resynced (an empty node promoted would wipe the data, and on a
    loaded machine a busy master can look down for a second)."""
    node.extra_args = [*_without(node.extra_args, {"--replicaof": 2, "--replica-priority": 1}), *args]
    node.start()


def _without(args: list[str], options: dict[str, int]) -> list[str]:
    """``args`` without the given options and their values (``{option: how many values}``)."""
    kept, skip = [], 0
    for arg in args:
        if skip:
            skip -= 1
        elif arg in options:
            skip = options[arg]
        else:
            kept.append(arg)
    return kept


def planned_cluster_failover(cluster: ClusterServers) -> None:
    replica = cluster.replicas_of(cluster.master_of(PREFIX))[0]
    cluster.client(replica).cluster("failover")
    wait_for(lambda: cluster.role(replica) == "master", 30, 0.1, "the replica to take over")


def crash_sentinel_master(sentinels: SentinelServers, lag: float = 0.0) -> None:
    master = sentinels.master()
    old_port = master.port
    with lagging(master, sentinels.replica(), lag):
        kill(master)
    sentinels.wait_for_new_master(old_port)
    restart_empty(master, ["--replicaof", "127.0.0.1", str(sentinels.master_port()), "--replica-priority", "0"])
    wait_for(sentinels.replica_in_sync, 30, 0.1, "the restarted node to resync")
    sentinels.client(master).config_set("replica-priority", 100)


def planned_sentinel_failover(sentinels: SentinelServers) -> None:
    old_port = sentinels.master_port()
    sentinels.sentinels[0].client().sentinel_failover("mymaster")
    sentinels.wait_for_new_master(old_port)


def run(url: str, spawn_worker, fail, durable: bool):
    url = url + ("?durable_replicas=1&durable_timeout_ms=500" if durable else "")
    queue = Queue(url, PREFIX)
    try:
        for _ in range(2):
            spawn_worker("--prefix", PREFIX, "--stalled-timeout", "6", redis_url=url, app=HA_APP)
        result = failover_run(queue, fail)
    finally:
        queue.close()
    print(f"\n{url}: {result}")
    assert result.stuck_active == 0, result
    return result


FAILOVERS = {
    ("cluster", "crash"): crash_cluster_master,
    ("cluster", "lagging crash"): lambda cluster: crash_cluster_master(cluster, lag=0.5),
    ("sentinel", "lagging crash"): lambda sentinels: crash_sentinel_master(sentinels, lag=0.5),
    ("cluster", "planned"): planned_cluster_failover,
    ("sentinel", "crash"): crash_sentinel_master,
    ("sentinel", "planned"): planned_sentinel_failover,
}


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "async"])
@pytest.mark.parametrize("kind", ["crash", "lagging crash", "planned"])
@pytest.mark.parametrize("deployment", ["cluster", "sentinel"])
def test_a_failover_mid_run(request, spawn_worker, deployment, kind, durable):
    servers = request.getfixturevalue(deployment)
    wait_for(servers.healthy, 60, 0.2, "each master to have a replica in sync")
    result = run(servers.url, spawn_worker, lambda: FAILOVERS[deployment, kind](servers), durable)
    request.node.user_properties.append(("failover", f"{deployment} {kind}: {result}"))
    if durable:
        assert result.lost == [], result
    elif kind == "lagging crash":  # else the durable run above proves nothing
        assert result.lost, f"a replica cut off for 0.5 s lost nothing without durable writes: {result}"
