"""The cost of one Prometheus scrape (pykue/metrics.py) with many jobs stored.

    .venv/bin/python bench/scrape_cost.py [JOBS]

Stores JOBS jobs (100,000 by default) of 8 types in a private redis-server (a real worker
runs the first thousand, so the per-type histograms hold data), then scrapes the
metrics and reports the Redis commands one scrape sends (from INFO commandstats: it does not
depend on the machine) and its time (which does: run it on a quiet machine).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pykue import Queue  # noqa: E402
from pykue.metrics import exposition, registry_for  # noqa: E402
from pykue.worker import Worker  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

TYPES = [f"type{i}" for i in range(8)]


def calls(queue: Queue) -> int:
    stats = queue.client.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


def main(jobs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        queue = Queue(server.url, "q")
        for job_type in TYPES:
            queue.task(job_type)(lambda **data: None)
        queue.create_many([(TYPES[i % len(TYPES)], {"n": i}) for i in range(1000)])
        Worker(queue, burst=True).run()  # the first thousand run: the histograms and counters fill
        began = time.perf_counter()
        for start in range(1000, jobs, 10_000):
            queue.create_many([(TYPES[i % len(TYPES)], {"n": i}) for i in range(start, min(jobs, start + 10_000))])
        print(f"stored {jobs} jobs of {len(TYPES)} types ({time.perf_counter() - began:.1f} s)")
        registry = registry_for(queue)
        exposition(registry)  # warm: scripts loaded, connections open
        before = calls(queue)
        text = exposition(registry)
        per_scrape = calls(queue) - before
        times = []
        for _ in range(50):
            t = time.perf_counter()
            exposition(registry)
            times.append(time.perf_counter() - t)
        lines = text.count(b"\n")
        print(f"one scrape: {per_scrape} Redis commands, {len(text)} bytes, {lines} lines")
        median, worst = statistics.median(times) * 1000, max(times) * 1000
        print(f"one scrape: median {median:.1f} ms, max {worst:.1f} ms (50 scrapes)")
        print(f"memory used by Redis: {queue.client.info('memory')['used_memory_human']}")
        queue.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
