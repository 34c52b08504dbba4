"""A queue on Redis Cluster and under Sentinel, from code and from the CLI: save, work, wait,
events, pause and the dashboard, against private deployments (tests/ha_servers.py)."""

from __future__ import annotations

import json
import os
import signal

import pytest
import redis
from click.testing import CliRunner
from redis.sentinel import Sentinel
from werkzeug.test import Client
from werkzeug.wrappers import Response

from pykue import DurabilityError, Queue
from pykue.cli import main
from pykue.web import create_app
from pykue.worker import Worker
from tests.helpers import wait_for


@pytest.fixture(params=["cluster", "sentinel"])
def deployment(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def ha_queue(deployment, unique_prefix):
    queue = Queue(deployment.url, "{" + unique_prefix + "}")

    @queue.task("add")
    def add(a: int, b: int) -> int:
        return a + b

    yield queue
    queue.close()


def test_jobs_are_saved_worked_and_waited_for(ha_queue):
    seen = []
    ha_queue.on("job complete", lambda job_id, result: seen.append((job_id, result)))
    ha_queue.events.ensure_subscribed()
    jobs = [ha_queue.create("add", {"a": n, "b": 1}).save() for n in range(20)]
    jobs += ha_queue.create_many([("add", {"a": 100, "b": n}) for n in range(20)])
    Worker(ha_queue, burst=True).run()
    assert [job.wait(10) for job in jobs] == [n + 1 for n in range(20)] + [100 + n for n in range(20)]
    wait_for(lambda: len(seen) == 40, 10, message="a complete event for each job")
    assert ha_queue.counts()["complete"] == 40


def test_pause_and_resume_from_the_cli_reach_the_workers(ha_queue, deployment):
    runner = CliRunner()
    env = {"PYKUE_REDIS_URL": deployment.url}
    result = runner.invoke(main, ["pause", "add", "--prefix", ha_queue.prefix], env=env)
    assert result.exit_code == 0, result.output
    assert ha_queue.paused_types() == {"add"}
    result = runner.invoke(main, ["resume", "add", "--prefix", ha_queue.prefix, "--redis", deployment.url])
    assert result.exit_code == 0, result.output
    assert ha_queue.paused_types() == set()


def test_the_dashboard_serves_the_queue(ha_queue, deployment):
    ha_queue.create("add", {"a": 1, "b": 2}).save()
    client = Client(create_app(deployment.url, ha_queue.prefix), Response)
    response = client.get("/stats")
    assert response.status_code == 200
    assert json.loads(response.data)["inactiveCount"] == 1
    assert client.get("/active").status_code == 200


def test_an_untagged_prefix_on_the_cli_says_to_use_a_tag(cluster):
    result = CliRunner().invoke(main, ["pause", "add", "--prefix", "jobs", "--redis", cluster.url])
    assert result.exit_code != 0
    assert "use a prefix such as '{jobs}'" in result.output


def test_moved_on_a_url_pinned_to_another_node_is_a_503_not_a_500(cluster):
    prefix = "{pinned}"
    owner = cluster.master_of(prefix)
    other = next(node for node in cluster.masters() if node is not owner)
    client = Client(create_app(f"redis://127.0.0.1:{other.port}/0", prefix), Response)
    response = client.get("/stats")
    assert response.status_code == 503
    assert "MovedError" in json.loads(response.data)["error"]
    page = client.get("/active")
    assert page.status_code == 503 and b"MovedError" in page.data


def test_two_tagged_queues_spread_over_two_masters(cluster):
    prefixes = ["{a}", "{b}"]  # slots 15495 and 3300: two of the three masters
    owners = [cluster.master_of(p) for p in prefixes]
    assert owners[0] is not owners[1]
    queues = [Queue(cluster.url, p) for p in prefixes]
    try:
        for queue, owner in zip(queues, owners):
            job = queue.create("email", {"to": queue.prefix}).save()
            assert cluster.client(owner).hget(f"{queue.prefix}:job:{job.id}", "type") == "email"
    finally:
        for queue in queues:
            queue.close()


def test_a_redis_cluster_client_and_a_sentinel_master_client_are_accepted(cluster, sentinel):
    host, port = cluster.url.split("://")[1].split(",")[0].split(":")
    from_cluster = Queue(lambda: redis.RedisCluster(host=host, port=int(port)), "{c}")
    sentinels = [(h, int(p)) for h, p in (a.split(":") for a in sentinel.url.split("://")[1].split("/")[0].split(","))]
    from_sentinel = Queue(Sentinel(sentinels).master_for("mymaster"), "s")
    try:
        for queue in (from_cluster, from_sentinel):
            job = queue.create("email", {}).save()
            assert queue.get_job(job.id).type == "email"
    finally:
        from_cluster.close()
        from_sentinel.close()


def test_a_queue_pointed_at_another_prefix_keeps_its_urls_durable_writes(cluster):
    queue = Queue(cluster.url + "?durable_replicas=1&durable_timeout_ms=300", "{a}")
    try:
        queue.configure(prefix="{b}")  # as `pykue worker --prefix` does
        assert queue.create("email", {}).save().id  # the new slot's replica holds it
        (replica,) = cluster.replicas_of(cluster.master_of("{b}"))
        os.kill(replica.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(DurabilityError):
                queue.create("email", {}).save()
        finally:
            os.kill(replica.process.pid, signal.SIGCONT)
    finally:
        queue.close()


def test_a_queue_pointed_at_another_prefix_follows_that_prefixs_master(cluster):
    queue = Queue(cluster.url, "{a}")
    try:
        queue.configure(prefix="{b}")  # as `pykue worker --prefix` does
        job = queue.create("email", {}).save()
        assert cluster.client(cluster.master_of("{b}")).hget(f"{{b}}:job:{job.id}", "type") == "email"
    finally:
        queue.close()
