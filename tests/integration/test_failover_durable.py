"""What a failover can lose, and the cures: a save no replica confirmed raises (durable
writes), and a job lost in a failover never takes the result of the job given its id."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from pykue import DurabilityError, JobNotFoundError, Queue
from pykue.worker import Worker
from tests.helpers import run_async, wait_for
from tests.redis_server import RedisServer


@pytest.fixture
def master_and_replica(tmp_path):
    with RedisServer(tmp_path / "master") as master:
        args = ["--replicaof", "127.0.0.1", str(master.port)]
        with RedisServer(tmp_path / "replica", extra_args=args) as replica:
            replica_client = redis.Redis(port=replica.port, decode_responses=True)
            wait_for(lambda: replica_client.info("replication")["master_link_status"] == "up", 10)
            yield master, replica


def test_a_job_lost_in_a_failover_never_takes_the_result_of_the_job_given_its_id(master_and_replica):
    master, replica = master_and_replica
    replica_client = redis.Redis(port=replica.port, decode_responses=True)
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


def test_a_save_no_replica_confirmed_raises_and_one_it_confirmed_returns(master_and_replica):
    master, replica = master_and_replica
    durable = Queue(master.url + "?durable_replicas=1&durable_timeout_ms=300", "q")
    hasty = Queue(master.url, "q")
    try:
        assert durable.create("email", {"n": 1}).save().id == 1  # the replica holds it
        os.kill(replica.process.pid, signal.SIGSTOP)  # a replica that lags (or a master cut off)
        try:
            with pytest.raises(DurabilityError, match="only 0 of 1 replica"):
                durable.create("email", {"n": 2}).save()
            with pytest.raises(DurabilityError):
                durable.create_many([("email", {"n": 3}), ("email", {"n": 4})])
            assert hasty.create("email", {"n": 5}).save().id == 5  # without: called saved at once
        finally:
            os.kill(replica.process.pid, signal.SIGCONT)
        assert durable.create("email", {"n": 6}).save().id == 6
    finally:
        durable.close()
        hasty.close()


def test_an_async_save_no_replica_confirmed_raises_too(master_and_replica):
    master, replica = master_and_replica
    durable = Queue(master.url + "?durable_replicas=1&durable_timeout_ms=300", "q")

    @durable.task("email")
    def email(n: int) -> None: ...

    async def save(n: int) -> int:
        try:
            return (await email.adelay(n)).id
        finally:
            await durable.aclose()

    try:
        assert run_async(lambda: save(1)) == 1  # the replica holds it
        os.kill(replica.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(DurabilityError, match="only 0 of 1 replica"):
                run_async(lambda: save(2))
        finally:
            os.kill(replica.process.pid, signal.SIGCONT)
        assert run_async(lambda: save(3)) == 3
    finally:
        durable.close()
