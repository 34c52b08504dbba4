"""The cost of a workflow step beside a plain job (issue 18): the same trivial task saved and
run as plain jobs, as chains, and as a chord's members, on one private Redis, by one burst
worker in this process. Rounds alternate the workloads; medians are printed with ratios to
plain jobs. Read ratios, not absolutes (the machine is shared).

    .venv/bin/python bench/workflow_cost.py [--n 2000] [--chain 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.redis_server import RedisServer  # noqa: E402
from pykue import Queue, chain, chord  # noqa: E402
from pykue.worker import Worker  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def redis_cpu(queue: Queue) -> float:
    """Seconds of CPU the Redis server has used (its main thread and children)."""
    info = queue.client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="steps (or jobs) per workload")
    parser.add_argument("--chain", type=int, default=10, help="steps per chain")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    server = RedisServer().start()
    queue = Queue(server.url, "bench")

    @queue.task("inc", concurrency=args.concurrency)
    def inc(x: int = 0) -> int:
        return x + 1

    @queue.task("inc1", concurrency=1)
    def inc1(x: int = 0) -> int:
        return x + 1

    @queue.task("total", concurrency=args.concurrency)
    def total(results: list[int]) -> int:
        return sum(results)

    n, k = args.n, args.chain

    def run_all() -> None:
        Worker(queue, burst=True, promote_interval=0.05).run()

    save = {
        "plain: task.delay each": lambda: [inc.delay(i) for i in range(n)],
        "plain: delay_many": lambda: inc.delay_many([((i,), {}) for i in range(n)]),
        f"chains of {k}: .delay() each": lambda: [
            chain(*[inc.s(0)] + [inc.s()] * (k - 1)).delay() for _ in range(n // k)
        ],
        f"chord of {n}: one .delay()": lambda: chord([inc.s(i) for i in range(n)], total.s()).delay(),
        "serial: plain, concurrency 1": lambda: inc1.delay_many([((i,), {}) for i in range(n)]),
        f"serial: one chain of {n}, concurrency 1": lambda: chain(*[inc1.s(0)] + [inc1.s()] * (n - 1)).delay(),
    }
    figures: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for label, make in save.items():
            queue.client.flushall()
            cpu = redis_cpu(queue)
            figures.setdefault(f"save {label}", []).append(timed(make))
            figures.setdefault(f"run  {label}", []).append(timed(run_all))
            figures.setdefault(f"cpu  {label}", []).append(redis_cpu(queue) - cpu)
            assert queue.count("complete") >= n, (label, queue.counts())
    queue.client.flushall()
    base_save = statistics.median(figures["save plain: task.delay each"])
    base_run = statistics.median(figures["run  plain: task.delay each"])
    base_cpu = statistics.median(figures["cpu  plain: task.delay each"])
    print(f"n={n} steps or jobs each, chains of {k}, {args.rounds} rounds (medians), concurrency {args.concurrency}")
    print("save/run: wall time; cpu: the Redis server's CPU to save and run them")
    print("ratio: to the plain jobs saved one by one; serial rows: to the serial plain row")
    print(f"{'workload':44} {'seconds':>8} {'µs/step':>8} {'ratio':>6}")
    for label, values in figures.items():
        median = statistics.median(values)
        base = {"save": base_save, "run ": base_run, "cpu ": base_cpu}[label[:4]]
        if "serial" in label:
            base = statistics.median(figures[f"{label[:4]} serial: plain, concurrency 1"])
        print(f"{label:44} {median:8.3f} {median / n * 1e6:8.0f} {median / base:6.2f}")
    queue.close()
    server.stop()


if __name__ == "__main__":
    main()
