"""The asyncio producer from a running event loop, against a real Redis and a real
``pykue worker`` process: jobs saved with ``adelay`` are the jobs ``delay`` saves, many
coroutines share it at once, and awaiting a result leaves the loop free."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import redis

from pykue import ConfigurationError, InvalidJobError, Job, JobFailedError, JobNotFoundError, Queue
from pykue.aio import mirror
from tests.helpers import flush_scripts, run_async
from tests.redis_probe import snapshot
from tests.redis_server import free_port
from tests.workerapp.typed_app import TypedTasks

APP = "tests.workerapp.typed_app"
T = TypeVar("T")


@pytest.fixture
def typed(client: redis.Redis, redis_url: str) -> Iterator[TypedTasks]:
    tasks = TypedTasks(redis_url)
    yield tasks
    tasks.queue.close()


def run(typed: TypedTasks, main: Callable[[], Awaitable[T]]) -> T:
    """``main()`` on a fresh event loop, as an application runs it; the loop's connections closed."""

    async def wrapped() -> T:
        try:
            return await main()
        finally:
            await typed.queue.aclose()

    return run_async(wrapped)


def test_jobs_saved_from_a_running_loop_are_run_by_a_real_worker(typed: TypedTasks, spawn_worker: Any) -> None:
    spawn_worker("--concurrency", "20", app=APP)

    async def main() -> tuple[int, str]:
        added = await typed.add.adelay(2, 3)
        greeted = await typed.greet.adelay(name="tj")
        return await added.await_result(15), await greeted.await_result(15)

    assert run(typed, main) == (5, "hello tj!")


def test_an_async_save_stores_the_same_job_as_delay(typed: TypedTasks, client: redis.Redis) -> None:
    sync_job = typed.greet.delay(name="tj", punctuation="?")
    async_job = run(typed, lambda: typed.greet.adelay(name="tj", punctuation="?"))
    assert async_job.id == sync_job.id + 1
    ignore = {"created_at", "promote_at", "updated_at"}
    stored = [
        {k: v for k, v in client.hgetall(f"q:job:{j.id}").items() if k not in ignore} for j in (sync_job, async_job)
    ]
    assert stored[0] == stored[1] and stored[0]["data"] == '{"name":"tj","punctuation":"?"}'
    assert client.zscore("q:jobs:greet:inactive", f"0{len(str(async_job.id))}|{async_job.id}") is not None
    assert async_job.to_json()["state"] == "inactive"


def test_many_coroutines_share_the_producer_at_once(typed: TypedTasks, client: redis.Redis, spawn_worker: Any) -> None:
    spawn_worker("--concurrency", "50", app=APP)

    async def main() -> list[int]:
        jobs = await asyncio.gather(*(typed.add.adelay(i, 1) for i in range(500)))
        assert len({job.id for job in jobs}) == 500
        assert all(client.hget(f"q:job:{job.id}", "data") == f'{{"args":[{i},1]}}' for i, job in enumerate(jobs))
        return list(await asyncio.gather(*(job.await_result(30) for job in jobs[:100])))

    assert run(typed, main) == [i + 1 for i in range(100)]
    assert client.zcard("q:jobs") == 500
    assert client.info("clients")["connected_clients"] < 100  # a bounded pool, not one per coroutine


def test_coroutines_cancelled_while_saving_leave_the_others_answers_in_order(
    typed: TypedTasks, client: redis.Redis
) -> None:
    async def main() -> None:
        saving = [asyncio.create_task(typed.add.adelay(i, 0)) for i in range(100)]
        await asyncio.sleep(0)  # every save is in the batch on its way
        for task in saving[::2]:
            task.cancel()
        kept = [await task for task in saving[1::2]]
        assert [client.hget(f"q:job:{job.id}", "data") for job in kept] == [
            f'{{"args":[{i},0]}}' for i in range(1, 100, 2)
        ]  # each coroutine got its own job's id
        after = await typed.add.adelay(7, 7)
        assert client.hget(f"q:job:{after.id}", "data") == '{"args":[7,7]}'

    run(typed, main)


def test_awaiting_a_result_leaves_the_event_loop_free(typed: TypedTasks, spawn_worker: Any) -> None:
    spawn_worker(app=APP)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def main() -> float:
        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        result = await (await typed.slow.adelay(seconds=1.0)).await_result(15)
        ticking.cancel()
        assert time.monotonic() - started >= 1.0
        return result

    assert run(typed, main) == 1.0
    assert ticks >= 50  # ~100 at 10 ms: the loop ran on while the job did


def test_aschedule_and_adelay_many(typed: TypedTasks, client: redis.Redis) -> None:
    async def main() -> tuple[Any, list[Any]]:
        later = await typed.add.aschedule(60, 1, 2)
        many = await typed.add.adelay_many([{"a": i, "b": i} for i in range(600)])  # three script calls
        return later, many

    later, many = run(typed, main)
    assert later.state == "delayed" and client.zcard("q:jobs:delayed") == 1
    promote_in = int(client.hget(f"q:job:{later.id}", "promote_at")) - time.time() * 1000
    assert 55_000 < promote_in <= 60_000
    assert [job.id for job in many] == list(range(later.id + 1, later.id + 601))
    assert many[599].data == {"a": 599, "b": 599} and client.zcard("q:jobs:add:inactive") == 600


def test_a_unique_async_save_answers_with_the_job_that_holds_it_back(typed: TypedTasks, client: redis.Redis) -> None:
    unique_add = typed.add.with_options(unique=True)

    async def main() -> list[Any]:
        first = await unique_add.adelay(1, 2)
        return [first, await unique_add.adelay(1, 2), *(await unique_add.adelay_many([((1, 2), {}), ((2, 2), {})]))]

    first, again, in_batch, other = run(typed, main)
    assert again.id == first.id and again.duplicate_of == first.id and in_batch.id == first.id
    assert other.id != first.id and client.zcard("q:jobs") == 2


def test_a_call_that_does_not_fit_is_refused_before_anything_is_saved(typed: TypedTasks, client: redis.Redis) -> None:
    typed.add.delay(1, 2)
    before = snapshot(client)

    async def main() -> None:
        with pytest.raises(InvalidJobError, match="'c'"):
            await typed.add.adelay(1, 2, c=3)  # type: ignore[call-arg]
        with pytest.raises(InvalidJobError, match="data.args"):
            await typed.add.adelay(1, {2})  # type: ignore[arg-type]
        with pytest.raises(InvalidJobError, match="'b'"):
            await typed.add.adelay_many([{"a": 1, "b": 1}, {"a": 1}])

    run(typed, main)
    assert snapshot(client) == before


def test_await_result_reports_failure_removal_and_timeout(typed: TypedTasks, spawn_worker: Any) -> None:
    spawn_worker(app=APP)

    async def main() -> None:
        failing = await typed.fail.adelay("boom")
        with pytest.raises(JobFailedError, match="boom"):
            await failing.await_result(15)
        slow = await typed.slow.adelay(seconds=5.0)
        with pytest.raises(TimeoutError):
            await slow.await_result(0.3)
        queued = await typed.add.aschedule(60, 1, 1)
        waiting = asyncio.create_task(queued.await_result(15))
        await asyncio.sleep(0.2)
        queued.remove()
        with pytest.raises(JobNotFoundError):
            await waiting

    run(typed, main)


def test_the_result_of_a_job_removed_on_completion_comes_from_its_event(
    typed: TypedTasks, client: redis.Redis, spawn_worker: Any
) -> None:
    spawn_worker(app=APP)

    async def main() -> list[int]:
        removed = typed.add.with_options(remove_on_complete=True)
        jobs = [await removed.adelay(i, 10) for i in range(5)]
        for _ in range(300):  # until every job ran and was removed: only their events keep the results
            if sum((await typed.queue.acounts()).values()) == 0:
                break
            await asyncio.sleep(0.05)
        assert client.zcard("q:jobs") == 0
        return list(await asyncio.gather(*(job.await_result(15) for job in jobs)))

    assert run(typed, main) == [10, 11, 12, 13, 14]


def test_only_jobs_removed_as_they_complete_make_a_save_wait_for_the_events_subscription(
    typed: TypedTasks, client: redis.Redis
) -> None:
    def subscribers() -> int:
        return int(dict(client.pubsub_numsub("q:events"))["q:events"])

    async def main() -> tuple[int, int]:
        # A count rule (the Queue default docs/jobs.md suggests) keeps the result readable
        await typed.add.with_options(remove_on_complete=1000).adelay(1, 1)
        kept = subscribers()
        # True removes the job as it completes: only its event will carry the result
        await typed.add.with_options(remove_on_complete=True).adelay(1, 1)
        return kept, subscribers()

    before = subscribers()
    assert run(typed, main) == (before, before + 1)


def test_a_save_to_a_redis_that_cannot_be_reached_raises_and_the_next_one_tries_again() -> None:
    port = free_port()
    dead = TypedTasks(f"redis://127.0.0.1:{port}/0")

    async def main() -> None:
        for _ in range(2):  # the lane that failed does not hold its callers, nor the next ones
            with pytest.raises(redis.ConnectionError):
                await asyncio.wait_for(asyncio.gather(*(dead.add.adelay(1, i) for i in range(3))), 10)
        await dead.queue.aclose()

    run_async(main)
    dead.queue.close()


def test_await_result_gives_up_in_time_when_redis_cannot_be_reached() -> None:
    dead = Queue(f"redis://127.0.0.1:{free_port()}/0", "q")  # nothing listens there
    job = Job.from_hash(dead, 1, {"type": "add", "state": "inactive"})

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await job.await_result(1.0)
        await dead.aclose()
        return time.monotonic() - started

    assert run_async(main) < 5.0
    dead.close()


def test_async_reads(typed: TypedTasks) -> None:
    typed.add.delay(1, 2)
    typed.add.schedule(60, 1, 2)

    async def main() -> tuple[Any, dict[str, int], dict[str, int]]:
        job = await typed.queue.aget_job(1)
        with pytest.raises(JobNotFoundError):
            await typed.queue.aget_job(99)
        with pytest.raises(InvalidJobError):
            await typed.queue.aget_job("x")
        return job, await typed.queue.acounts(), await typed.queue.acounts("greet")

    job, counts, greet = run(typed, main)
    assert job.data == {"args": [1, 2]} and job.state == "inactive"
    assert counts == {"inactive": 1, "active": 0, "complete": 0, "failed": 0, "delayed": 1}
    assert greet == dict.fromkeys(counts, 0)


def test_one_queue_serves_one_event_loop_after_another(typed: TypedTasks) -> None:
    for _ in range(3):  # redis.asyncio connections belong to their loop: each loop gets its own
        job = run_async(lambda: typed.add.adelay(1, 1))
    assert job.id == 3


def test_test_mode_records_async_saves_without_redis(typed: TypedTasks, client: redis.Redis) -> None:
    typed.queue.test_mode.enter()
    try:
        job = run(typed, lambda: typed.add.adelay(1, 2))
    finally:
        typed.queue.test_mode.exit()
    assert job.id == "1" and typed.queue.test_mode.jobs == [job]
    assert client.dbsize() == 0


def test_a_connection_the_async_side_cannot_mirror_is_refused_clearly(redis_url: str) -> None:
    sentinel_like = redis.Redis(
        connection_pool=redis.ConnectionPool.from_url(redis_url, connection_class=_OtherConnection)
    )
    queue = Queue(sentinel_like, "q")
    with pytest.raises(ConfigurationError, match="use_async_redis"):
        queue.aio  # noqa: B018
    with pytest.raises(ConfigurationError, match="uses object"):  # a client with no pool (a cluster's)
        mirror(object())  # type: ignore[arg-type]
    queue.use_async_redis(lambda: redis.asyncio.Redis.from_url(redis_url, decode_responses=True))

    async def main() -> dict[str, int]:
        try:
            return await queue.acounts()
        finally:
            await queue.aclose()

    assert run_async(main)["inactive"] == 0
    queue.close()


class _OtherConnection(redis.Connection):
    """A connection class of its own, as Sentinel's or a custom client's."""


def test_an_async_save_after_the_scripts_vanished_loads_them_and_saves_once(
    typed: TypedTasks, client: redis.Redis
) -> None:
    first = typed.add.delay(1, 1)
    flush_scripts(client)  # a restart or failover to a server that never saw them
    jobs = run(typed, lambda: asyncio.gather(*(typed.add.adelay(i, 0) for i in range(20))))
    assert sorted(j.id for j in jobs) == list(range(first.id + 1, first.id + 21))
    assert client.get("q:ids") == str(first.id + 20)  # a refused call took no id
    assert client.zcard("q:jobs:add:inactive") == 21
