"""CPU per job of any system's worker and of Redis, from the first 200 jobs to the last.

bench/probe.py's figures for pykue, for the peers as well, so that a worker's own cost can be
set beside BullMQ's or Kue's in the same minute on the same machine::

    .venv/bin/python bench/peer_probe.py bullmq --concurrency 10 [--n 20000] [--empty]

``--concurrency`` applies to pykue, Kue and BullMQ (their Variant settings); the others run at
their documented defaults. ``--empty``: a task that does nothing (BENCH_TASK=empty), for the
systems that name where they keep completed jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "systems"))

from redis_server import RedisServer  # noqa: E402
from systems import BY_NAME, System, Variant  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [p for child in children for p in _tree(int(child))]


def _cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / TICK


def _redis_cpu(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("system", choices=sorted(BY_NAME))
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--n", type=int, default=20000)
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
            workers = system.start_workers(1, "probe", BENCH_TASK="empty")

            def done() -> int:
                return client.zcard(done_key)
        else:
            workers = system.start_workers(1, "probe")

            def done() -> int:
                return client.hlen("bench:runs")

        try:
            while done() < 200:
                time.sleep(0.002)
            pids = [p for proc in workers.procs for p in _tree(proc.pid)]
            t0, c0, r0, d0 = time.perf_counter(), _cpu(pids), _redis_cpu(client), done()
            while done() < args.n:
                time.sleep(0.01)
            t1, c1, r1 = time.perf_counter(), _cpu(pids), _redis_cpu(client)
        finally:
            workers.stop()
    jobs = args.n - d0
    print(
        json.dumps(
            {
                "system": args.system,
                "concurrency": args.concurrency,
                "jobs_per_s": round(jobs / (t1 - t0)),
                "worker_cpu_us": round((c1 - c0) / jobs * 1e6, 1),
                "redis_cpu_us": round((r1 - r0) / jobs * 1e6, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
