"""The ceiling: what a CPython worker could reach here on pykue's scripts, with no queue logic.

bench/probe.py measures pykue's worker. This measures a skeleton of it that keeps what any
worker of this design must pay and drops the rest: ``--concurrency`` threads run the
benchmark's task (its one ``HINCRBY`` through redis-py, after reading ``i`` from the job's
JSON data), and ``--reporters`` threads report finished jobs in batches with pykue's own
``complete_jobs`` script, which claims the freed slots' next jobs in the same call, as pykue's
reporter does with up to two calls in flight. Pinned to one CPU under SCHED_BATCH, as a
worker is by default. What it leaves out is every line of pykue's Python per job: Job
objects, slots and their locks, TTLs, cancellation, logging, the doorbell, failures,
outages. So, on one machine in the same minutes:

- probe.py's worker CPU per job minus this one's is what pykue's own per-job Python costs;
- this one's jobs/s beside BullMQ's (peer_probe.py) is about the most a CPython worker of
  this design could reach against it, with the same Redis work as pykue's (about: pykue's
  own way of reporting, one thread with two calls in flight, beat it once in W2b).

    .venv/bin/python bench/floor.py --concurrency 10 --runs 3
    .venv/bin/python bench/floor.py --concurrency 1 --inline     # each thread reports its own job
    .venv/bin/python bench/floor.py --concurrency 10 --bare      # a trivial script on a list
    .venv/bin/python bench/floor.py --concurrency 10 --processes 2   # W2b's two processes

``--inline``: no reporter threads; each task thread completes its job and claims its next in
one call (pykue's way at concurrency 1). ``--bare``: the same threads on a plain list and a
two-line script, the thread structure alone without Kue's Redis work. ``--empty``: no write.
Each worker process is set up (imports, connections) before the clock starts, as the probe
leaves out start-up. Prints one JSON line (medians with ``--runs``), the probe's keys.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from redis_server import RedisServer  # noqa: E402

WORKER = "floor-worker"
TYPE = "task0"
BARE_SCRIPT = """
for i = 2, #ARGV do redis.call('HSET', 'floor:done', ARGV[i], 1) end
return redis.call('LPOP', KEYS[1], tonumber(ARGV[1]))
"""
Item = Any  # a claimed job as the skeleton hands it over


class Kue:
    """Jobs in Kue's layout, claimed and completed with pykue's scripts."""

    def __init__(self, url: str) -> None:
        import pykue
        from pykue.job_hash import now_ms

        self.now_ms = now_ms
        self.queue = pykue.Queue(redis=url, prefix="q")
        self.store = self.queue.store.for_worker()

    @classmethod
    def enqueue(cls, url: str, n: int) -> None:
        jobs = cls(url)
        task = jobs.queue.task(TYPE)(lambda i: None)
        for start in range(0, n, 1000):
            task.delay_many([{"i": i} for i in range(start, min(n, start + 1000))])
        jobs.store.load_worker_scripts()
        jobs.store.renew_lease(WORKER, jobs.now_ms(), 3_600_000)

    def claim(self, count: int) -> list[Item]:
        return list(self.store.claim_jobs(self.now_ms(), WORKER, {TYPE: count}).claimed)

    def complete(self, done: list[Item]) -> list[Item]:
        """Complete ``done`` (id, claim) and claim as many more, in one call."""
        now = self.now_ms()
        finished = [(job_id, claim, "") for job_id, claim in done]
        return list(self.store.complete_jobs(now, finished, WORKER, {TYPE: len(done)}, now).claimed)

    @staticmethod
    def argument(item: Item) -> tuple[int, Any, Any]:
        job_id, claim, fields = item
        return json.loads(fields["data"])["i"], job_id, claim

    @staticmethod
    def completed(client: redis.Redis) -> int:
        from pykue.keys import Keys

        return int(client.zcard(Keys("q").state("complete")))


class Bare:
    """Job ids on a list, claimed and completed by a two-line script."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(BARE_SCRIPT)

    @staticmethod
    def enqueue(url: str, n: int) -> None:
        pipe = redis.Redis.from_url(url).pipeline(transaction=False)
        for start in range(0, n, 1000):
            pipe.rpush("floor:q", *range(start, min(n, start + 1000)))
        pipe.execute()

    def claim(self, count: int) -> list[Item]:
        return list(self.script(keys=["floor:q"], args=[count]) or [])

    def complete(self, done: list[Item]) -> list[Item]:
        return list(self.script(keys=["floor:q"], args=[len(done), *(job_id for job_id, _ in done)]) or [])

    @staticmethod
    def argument(item: Item) -> tuple[int, Any, Any]:
        return int(item), int(item), ""

    @staticmethod
    def completed(client: redis.Redis) -> int:
        return int(client.hlen("floor:done"))


def run_threads(jobs: Kue | Bare, task: Callable[[int], None], concurrency: int, reporters: int) -> None:
    """Task threads hand (id, claim) to reporter threads, which report in batches of at most
    concurrency / reporters and hand the claimed jobs back; until no job is left to run."""
    todo: queue.SimpleQueue[Item] = queue.SimpleQueue()
    done: queue.SimpleQueue[Any] = queue.SimpleQueue()
    lock, finished = threading.Lock(), threading.Event()
    batch_limit = max(1, concurrency // reporters)
    claimed = jobs.claim(concurrency)
    outstanding = [len(claimed)]  # handed to the task threads, not reported yet

    def task_thread() -> None:
        while (item := todo.get()) is not None:
            i, job_id, claim = jobs.argument(item)
            task(i)
            done.put((job_id, claim))

    def reporter() -> None:
        while (first := done.get()) is not None:
            batch = [first]
            while len(batch) < batch_limit:
                try:
                    batch.append(done.get_nowait())
                except queue.Empty:
                    break
            refill = jobs.complete(batch)
            for item in refill:
                todo.put(item)
            with lock:
                outstanding[0] += len(refill) - len(batch)
                if not outstanding[0]:
                    finished.set()

    threads = [threading.Thread(target=task_thread, daemon=True) for _ in range(concurrency)]
    threads += [threading.Thread(target=reporter, daemon=True) for _ in range(reporters)]
    for thread in threads:
        thread.start()
    for item in claimed:
        todo.put(item)
    if claimed:
        finished.wait()
    for _ in range(reporters):
        done.put(None)
    for _ in range(concurrency):
        todo.put(None)


def run_inline(jobs: Kue | Bare, task: Callable[[int], None], concurrency: int) -> None:
    """Each thread runs its job, then completes it and claims its next in one call."""

    def thread_main() -> None:
        claimed = jobs.claim(1)
        while claimed:
            i, job_id, claim = jobs.argument(claimed[0])
            task(i)
            claimed = jobs.complete([(job_id, claim)])

    threads = [threading.Thread(target=thread_main) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _switches() -> int:
    """Context switches of every thread this process has had, ended ones too."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


def part(args: argparse.Namespace) -> dict[str, float]:
    """One worker process: set up, say so, wait for the go, run until no job is left."""
    from pykue.worker.affinity import pin_to_cpu

    url = args.part_of
    jobs: Kue | Bare = Bare(url) if args.bare else Kue(url)
    task_client = redis.Redis.from_url(url)

    def task(i: int) -> None:
        if not args.empty:
            task_client.hincrby("bench:runs", i, 1)

    control = redis.Redis.from_url(url)
    control.incr("floor:ready")
    control.blpop(["floor:go"])
    # the worker's defaults: the CPU it runs on, or the slot-th under a supervisor; SCHED_BATCH
    pin_to_cpu(slot=args.slot if args.processes > 1 else None, watch=True)
    cpu0, switches0 = os.times(), _switches()
    if args.inline:
        run_inline(jobs, task, args.concurrency)
    else:
        run_threads(jobs, task, args.concurrency, args.reporters)
    cpu1, switches1 = os.times(), _switches()
    return {
        "cpu": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "sys": cpu1.system - cpu0.system,
        "switches": switches1 - switches0,
    }


def one(args: argparse.Namespace) -> dict[str, float]:
    """N jobs queued, ``--processes`` workers started and set up, then timed from the go
    until the N-th job is complete."""
    with RedisServer() as server:
        (Bare if args.bare else Kue).enqueue(server.url, args.n)
        client = server.client
        argv = [sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--part-of", server.url]
        workers = [
            subprocess.Popen([*argv, "--slot", str(slot)], stdout=subprocess.PIPE, text=True)
            for slot in range(args.processes)
        ]
        try:
            while int(client.get("floor:ready") or 0) < args.processes:
                time.sleep(0.01)
            completed = Bare.completed if args.bare else Kue.completed
            redis0, t0 = _redis_cpu(client), time.perf_counter()
            client.lpush("floor:go", *[1] * args.processes)
            while completed(client) < args.n:
                time.sleep(0.002)
            t1, redis1 = time.perf_counter(), _redis_cpu(client)
            parts = [json.loads(w.communicate(timeout=60)[0].strip().splitlines()[-1]) for w in workers]
        finally:
            for w in workers:
                w.kill()
        if not args.empty and client.hlen("bench:runs") != args.n:
            raise SystemExit("floor: the task did not run once per job")
    return {
        "jobs_per_s": args.n / (t1 - t0),
        "worker_cpu_us": sum(p["cpu"] for p in parts) / args.n * 1e6,
        "worker_sys_us": sum(p["sys"] for p in parts) / args.n * 1e6,
        "redis_cpu_us": (redis1 - redis0) / args.n * 1e6,
        "switches": sum(p["switches"] for p in parts) / args.n,
    }


def _redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=_positive, default=20000)
    parser.add_argument("--concurrency", type=_positive, default=10)
    parser.add_argument("--reporters", type=_positive, default=2, help="reporting threads (pykue: 2 calls in flight)")
    parser.add_argument("--inline", action="store_true", help="each task thread reports its own job")
    parser.add_argument("--bare", action="store_true", help="a plain list and a trivial script")
    parser.add_argument("--empty", action="store_true", help="a task that does nothing")
    parser.add_argument("--runs", type=_positive, default=1)
    parser.add_argument("--processes", type=_positive, default=1, help="worker processes (W2b: 2)")
    parser.add_argument("--part-of", help=argparse.SUPPRESS)
    parser.add_argument("--slot", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part_of:
        print(json.dumps(part(args)))
        return
    results = [one(args) for _ in range(args.runs)]
    medians = {k: round(statistics.median(r[k] for r in results), 2) for k in results[0]}
    print(json.dumps(medians))


if __name__ == "__main__":
    main()
