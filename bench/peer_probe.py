"""CPU per job of any system's worker and of Redis, from the first 200 jobs to the last.

bench/probe.py's figures for pykue, for the peers as well, so that a worker's own cost can be
set beside BullMQ's or Kue's in the same minute on the same machine::

    .venv/bin/python bench/peer_probe.py bullmq --concurrency 10 [--n 20000] [--empty] [--processes 2]

``--concurrency`` applies to pykue, Kue and BullMQ (their Variant settings); the others run at
their documented defaults. ``--empty``: a task that does nothing (BENCH_TASK=empty), for the
systems that name where they keep completed jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "systems"))

from probe import cpu_seconds, redis_cpu_seconds, worker_pids  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from systems import BY_NAME, System, Variant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("system", choices=sorted(BY_NAME))
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=1, help="worker processes (W2b: 2)")
    parser.add_argument("--empty", action="store_true")
    args = parser.parse_args()
    variant = Variant(args.system, args.concurrency) if args.system in ("pykue", "kue", "bullmq") else None
    with RedisServer() as server, tempfile.TemporaryDirectory() as logs:
        system = System(BY_NAME[args.system], server.url, logs, variant)
        system.load_info()
        client = server.client
        system.enqueue(args.n, bulk=bool(system.info.get("bulk")))
        if args.empty:
            done_key = system.info["completed_key"]
            workers = system.start_workers(args.processes, "probe", BENCH_TASK="empty")

            def done() -> int:
                return client.zcard(done_key)
        else:
            workers = system.start_workers(args.processes, "probe")

            def done() -> int:
                return client.hlen("bench:runs")

        try:
            while done() < 200:
                time.sleep(0.002)
            pids = [p for proc in workers.procs for p in worker_pids(proc.pid)]
            t0, c0, r0, d0 = time.perf_counter(), cpu_seconds(pids), redis_cpu_seconds(client), done()
            while done() < args.n:
                time.sleep(0.01)
            t1, c1, r1 = time.perf_counter(), cpu_seconds(pids), redis_cpu_seconds(client)
        finally:
            workers.stop()
    jobs = args.n - d0
    print(
        json.dumps(
            {
                "system": args.system,
                "concurrency": args.concurrency,
                "processes": args.processes,
                "jobs_per_s": round(jobs / (t1 - t0)),
                "worker_cpu_us": round((c1 - c0) / jobs * 1e6, 1),
                "redis_cpu_us": round((r1 - r0) / jobs * 1e6, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
