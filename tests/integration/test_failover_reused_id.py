"""After a failover that rolled ``q:ids`` back, the lost job's id is given to the next job
saved: waiting for the lost job must not return the other job's result."""

from __future__ import annotations

import time

import pytest
import redis

from pykue import JobNotFoundError, Queue
from pykue.worker import Worker
from tests.helpers import wait_for
from tests.redis_server import RedisServer


def test_a_job_lost_in_a_failover_never_takes_the_result_of_the_job_given_its_id(tmp_path):
    with RedisServer(tmp_path / "master") as master:
        args = ["--replicaof", "127.0.0.1", str(master.port)]
        with RedisServer(tmp_path / "replica", extra_args=args) as replica:
            replica_client = redis.Redis(port=replica.port, decode_responses=True)
            wait_for(lambda: replica_client.info("replication")["master_link_status"] == "up", 10)
            queue = Queue(master.url, "q")

            @queue.task("double")
            def double(x: int) -> int:
                return 2 * x

            try:
                queue.create("double", {"x": 0}).save()  # replicated
                wait_for(lambda: replica_client.get("q:ids") == "1", 10)
                replica_client.replicaof("no", "one")  # promoted: what the master writes now is lost
                lost = queue.create("double", {"x": 1}).save()
                queue.configure(redis=replica.url)  # the clients follow the new master
                time.sleep(0.002)  # a later millisecond: created_at tells the two jobs apart
                other = queue.create("double", {"x": 2}).save()
                assert other.id == lost.id == 2
                Worker(queue, burst=True).run()
                assert other.wait(5) == 4
                with pytest.raises(JobNotFoundError, match="lost in a Redis failover"):
                    lost.wait(5)
            finally:
                queue.close()
