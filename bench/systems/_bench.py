"""What every Python adapter shares, and the driver that runs one adapter action.

This module runs inside each peer's own virtualenv, so it needs nothing but redis-py
(which every peer depends on). run.py calls it as::

    <venv>/bin/python bench/systems/_bench.py <adapter module> <action> [--n N] [--rate R]

and reads one JSON object from the last line of stdout.

The task every system runs is the same no-op that counts itself with ONE small write:

* a throughput job ``i`` does ``HINCRBY bench:runs i 1``; after a run every field must be 1
  (exactly once) and there must be N fields (none lost);
* a latency job carries its enqueue time ``t`` (epoch seconds, float) and does
  ``HSET bench:lat i <start - t in ms>``.

An adapter module defines:

* ``INFO``: dict with ``version``, ``config`` (one line: how its worker is configured),
  ``bulk`` (the bulk API used, or None), ``multiprocess`` (True when ``worker_argv(2)``
  itself starts two processes), ``types`` (how the ten task types are modelled), and
  optionally ``completed_key``, the sorted set where the system keeps completed jobs (W2n
  counts completions there, its task doing nothing when ``BENCH_TASK=empty``);
* ``enqueue(i, t=None)``: one job, sync or ``async def`` (an async one also serves
  ``enqueue_concurrent``: n jobs from ``--in-flight`` coroutines at once);
* ``enqueue_bulk(items)``: optional; ``items`` is a list of ints, one call per chunk;
* ``worker_argv(processes)``: list of argv lists, each a long-running worker command;
* ``setup()`` / ``teardown()``: optional, sync or async.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import os
import sys
import time

URL = os.environ.get("BENCH_REDIS_URL", "")
RUNS = "bench:runs"
LAT = "bench:lat"
TASK_TYPES = [f"task{k}" for k in range(10)]
BULK_CHUNK = 1000


def latency_ms(t: float) -> float:
    return (time.time() - t) * 1000.0


EMPTY_TASK = os.environ.get("BENCH_TASK") == "empty"  # W2n: the queue's own cost, no write at all


def record(client, i, t=None) -> None:
    """The task body for sync clients (redis-py ``Redis``)."""
    if EMPTY_TASK:
        return
    if t is None:
        client.hincrby(RUNS, i, 1)
    else:
        client.hset(LAT, i, latency_ms(t))


async def arecord(client, i, t=None) -> None:
    """The task body for asyncio clients (``redis.asyncio.Redis``)."""
    if EMPTY_TASK:
        return
    if t is None:
        await client.hincrby(RUNS, i, 1)
    else:
        await client.hset(LAT, i, latency_ms(t))


def bin_path(name: str) -> str:
    """A console script of the interpreter's venv (``rq``, ``celery``, ...)."""
    return os.path.join(os.path.dirname(sys.executable), name)


# --- the driver ---------------------------------------------------------------------


async def _maybe(value):
    if inspect.isawaitable(value):
        return await value
    return value


async def _enqueue_many(adapter, n: int, bulk: bool) -> float:
    ids = list(range(n))
    start = time.perf_counter()
    if bulk:
        for k in range(0, n, BULK_CHUNK):
            await _maybe(adapter.enqueue_bulk(ids[k : k + BULK_CHUNK]))
    else:
        for i in ids:
            await _maybe(adapter.enqueue(i))
    return time.perf_counter() - start


async def _enqueue_concurrent(adapter, n: int, in_flight: int) -> float:
    """n enqueue calls with ``in_flight`` coroutines at once (an asyncio app's many requests):
    each of ``in_flight`` lanes awaits its calls one after another."""
    if not inspect.iscoroutinefunction(adapter.enqueue):
        raise SystemExit("enqueue_concurrent needs an async enqueue")

    async def lane(first: int) -> None:
        for i in range(first, n, in_flight):
            await adapter.enqueue(i)

    start = time.perf_counter()
    await asyncio.gather(*(lane(k) for k in range(in_flight)))
    return time.perf_counter() - start


async def _wait_for_warmup(timeout: float = 60.0) -> float:
    import redis

    client = redis.Redis.from_url(URL)
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < timeout:
            if client.hexists(RUNS, -1):
                return time.perf_counter() - start
            await asyncio.sleep(0.01)
    finally:
        client.close()
    raise TimeoutError(f"the warm-up job did not run within {timeout:.0f}s")


async def _paced(adapter, n: int, rate: float) -> dict:
    """One warm-up job, then n jobs at a steady rate, each carrying its enqueue time."""
    await _maybe(adapter.enqueue(-1))
    warmup = await _wait_for_warmup()
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await _maybe(adapter.enqueue(i, time.time()))
    elapsed = time.perf_counter() - start
    return {"warmup_seconds": warmup, "rate": n / elapsed if elapsed else None}


def _task_body(n: int, in_flight: int) -> dict:
    """W4b: the task body alone, no queue: ``record`` n times with redis-py, one call at a time
    and then from ``in_flight`` threads sharing one client, on one CPU (how a pykue worker with
    ``--pin-cpu`` runs def tasks). What a Python worker doing this task could reach if its own
    work cost nothing."""
    import concurrent.futures

    import redis

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    client = redis.Redis.from_url(URL)
    out = {"client": f"redis-py {redis.__version__}", "in_flight": in_flight}
    for label, workers in (("serial", 1), ("concurrent", in_flight)):
        client.delete(RUNS)
        cpu, start = time.process_time(), time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            lanes = [
                pool.submit(lambda c=chunk, w=workers: [record(client, i) for i in range(c, n, w)])
                for chunk in range(workers)
            ]
            for lane in lanes:
                lane.result()  # a failed write surfaces as itself
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if client.hlen(RUNS) != n:
            raise RuntimeError(f"{label}: {client.hlen(RUNS)} of {n} writes landed")
        out[f"{label}_per_s"] = n / seconds
        out[f"{label}_cpu_us"] = cpu / n * 1e6
    client.delete(RUNS)
    client.close()
    return out


async def _run(adapter, args) -> dict:
    await _maybe(getattr(adapter, "setup", lambda: None)())
    try:
        if args.action == "enqueue":
            cpu = time.process_time()
            seconds = await _enqueue_many(adapter, args.n, bulk=False)
            return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu}
        if args.action == "enqueue_bulk":
            return {"seconds": await _enqueue_many(adapter, args.n, bulk=True)}
        if args.action == "enqueue_concurrent":
            cpu = time.process_time()  # the producer's own cost, which a loaded machine moves less
            seconds = await _enqueue_concurrent(adapter, args.n, args.in_flight or 50)
            return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu}
        if args.action == "latency":
            return await _paced(adapter, args.n, args.rate)
        raise SystemExit(f"unknown action {args.action}")
    finally:
        await _maybe(getattr(adapter, "teardown", lambda: None)())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("adapter")
    parser.add_argument(
        "action", choices=["info", "enqueue", "enqueue_bulk", "enqueue_concurrent", "latency", "lua", "task_body"]
    )
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument(
        "--in-flight",
        type=int,
        default=0,
        help="task_body: default the adapter's CONCURRENCY; enqueue_concurrent: default 50",
    )
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args(argv)
    adapter = importlib.import_module(args.adapter)
    if args.action == "info":
        out = dict(adapter.INFO, workers={str(p): adapter.worker_argv(p) for p in (1, 2)})
        out["bulk"] = out.get("bulk") if hasattr(adapter, "enqueue_bulk") else None
    elif args.action == "lua":
        out = adapter.lua_transition()
    elif args.action == "task_body":
        out = _task_body(args.n, args.in_flight or getattr(adapter, "CONCURRENCY", 10))
    else:
        out = asyncio.run(_run(adapter, args))
    sys.stdout.flush()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
