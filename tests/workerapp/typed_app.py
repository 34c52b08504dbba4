"""Typed tasks for the asyncio producer's tests: ``pykue worker -A tests.workerapp.typed_app``."""

from __future__ import annotations

import asyncio

from pykue import Queue
from pykue.task import AsyncTask, Task


class TypedTasks:
    """The queue and its tasks, built for one Redis (the worker builds its own from the module)."""

    def __init__(self, redis: str | None = None) -> None:
        self.queue = queue = Queue(redis, "q")

        @queue.task("add", concurrency=20)
        def add(a: int, b: int) -> int:
            return a + b

        @queue.task("greet", concurrency=20)
        async def greet(name: str, punctuation: str = "!") -> str:
            await asyncio.sleep(0.01)
            return f"hello {name}{punctuation}"

        @queue.task("fail")
        def fail(message: str) -> None:
            raise RuntimeError(message)

        @queue.task("slow")
        def slow(seconds: float) -> float:
            import time

            time.sleep(seconds)
            return seconds

        self.add: Task[[int, int], int] = add
        self.greet: AsyncTask[[str, str], str] = greet
        self.fail = fail
        self.slow = slow


queue = TypedTasks().queue  # what `pykue worker -A` finds ($PYKUE_REDIS_URL)
