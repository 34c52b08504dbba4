"""CPU per job of one pykue worker, for A/B work on a shared machine.

Wall-clock jobs/s move with whatever else runs; the CPU a job costs the worker process and
Redis, the commands it sends and the context switches it makes move far less. This queues N
jobs of the benchmark's task (bulk), starts one worker of the given pykue tree, and reports
those per job, measured from the first job's completion to the last (start-up excluded)::

    .venv/bin/python bench/probe.py --root /path/to/other/tree --concurrency 10 [--flags=--pin-cpu]

Alternate two trees back to back and compare ratios; ``--runs`` repeats and prints medians.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from redis_server import RedisServer  # noqa: E402

DONE = "q:jobs:complete"  # the adapter's prefix: jobs count once complete (BENCH_TASK=empty writes nothing)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int], which: slice = slice(11, 13)) -> float:
    """CPU seconds of ``pids``: user and system (``which`` picks one: 11:12 user, 12:13 system)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[which])  # utime, stime
        except OSError:
            pass
    return total / TICK


def _per_thread(pids: list[int], name: str, read) -> float:
    """The sum of ``read(text)`` over /proc/<pid>/task/<tid>/<name> of every thread."""
    total = 0.0
    for pid in pids:
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/{name}") as fh:
                    total += read(fh.read())
        except OSError:
            pass
    return total


def _switches(pids: list[int]) -> float:
    def read(text: str) -> int:
        return sum(
            int(line.split()[1])
            for line in text.splitlines()
            if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt"))
        )

    return _per_thread(pids, "status", read)


def _run_delay(pids: list[int]) -> float:
    """Seconds the threads spent runnable, waiting for a CPU."""
    return _per_thread(pids, "schedstat", lambda text: int(text.split()[1]) / 1e9)


def worker_pids(root_pid: int) -> list[int]:
    """The worker and its children (a supervisor's processes)."""
    out = subprocess.run(["pgrep", "-P", str(root_pid)], capture_output=True, text=True).stdout.split()
    return [root_pid] + [int(p) for p in out]


def redis_cpu_seconds(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def one(server: RedisServer, args: argparse.Namespace) -> dict:
    env = dict(
        os.environ,
        BENCH_REDIS_URL=server.url,
        BENCH_CONCURRENCY=str(args.concurrency),
        BENCH_TASK_KIND=args.kind,
        BENCH_WORKER_FLAGS=args.flags,
        **({"BENCH_TASK": "empty"} if args.empty else {}),
        PYTHONPATH=os.path.join(HERE, "systems") + os.pathsep + args.root,
    )
    python = os.path.join(args.root, ".venv", "bin", "python")
    server.flushall()
    code = f"import pykue_; pykue_.enqueue_bulk(list(range({args.n})))"
    subprocess.run([python, "-c", code], env=env, check=True, cwd=os.path.join(HERE, "systems"))
    argv = json.loads(
        subprocess.run(
            [python, os.path.join(HERE, "systems", "_bench.py"), "pykue_", "info"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=os.path.join(HERE, "systems"),
        ).stdout.splitlines()[-1]
    )["workers"][str(args.processes)][0]
    argv[0] = os.path.join(args.root, ".venv", "bin", "pykue")
    client = server.client
    proc = subprocess.Popen(argv, env=env, cwd=os.path.join(HERE, "systems"), stdout=subprocess.DEVNULL)
    try:
        while not client.zcard(DONE):
            time.sleep(0.002)
        pids = worker_pids(proc.pid)
        t0, c0, s0, r0 = time.perf_counter(), cpu_seconds(pids), _switches(pids), redis_cpu_seconds(client)
        sys0 = cpu_seconds(pids, slice(12, 13))
        w0 = _run_delay(pids)
        client.config_resetstat()
        k0, done0 = client.info("stats")["total_commands_processed"], client.zcard(DONE)
        polls = 0
        while client.zcard(DONE) < args.n:
            polls += 1
            time.sleep(0.01)
        t1, c1, s1, r1 = time.perf_counter(), cpu_seconds(pids), _switches(pids), redis_cpu_seconds(client)
        sys1 = cpu_seconds(pids, slice(12, 13))
        w1 = _run_delay(pids)
        k1 = client.info("stats")["total_commands_processed"]
        stats = client.info("commandstats")
    finally:
        proc.terminate()
        proc.wait(10)
    jobs = args.n - done0
    return {
        "jobs_per_s": jobs / (t1 - t0),
        "worker_cpu_us": (c1 - c0) / jobs * 1e6,
        "worker_sys_us": (sys1 - sys0) / jobs * 1e6,
        "redis_cpu_us": (r1 - r0) / jobs * 1e6,
        "commands": (k1 - k0 - polls - 3) / jobs,
        "switches": (s1 - s0) / jobs,
        "runnable_share": (w1 - w0) / (t1 - t0),  # waited for a CPU, per second
        **_per_command(stats, jobs, args.commands),
    }


def _per_command(stats: dict, jobs: int, wanted: bool) -> dict:
    """With --commands: calls and Redis microseconds per job, per command (scripts included)."""
    if not wanted:
        return {}
    out = {}
    for name, row in sorted(stats.items(), key=lambda kv: -kv[1]["usec"]):
        command = name.removeprefix("cmdstat_")
        out[f"{command}.calls"] = row["calls"] / jobs
        out[f"{command}.us"] = row["usec"] / jobs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=os.path.dirname(HERE), help="the pykue tree (with its .venv)")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--kind", default="sync", choices=["sync", "async"])
    parser.add_argument("--flags", default="", help="extra worker options, e.g. --flags=--pin-cpu")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--empty", action="store_true", help="a task that does nothing (the queue's cost alone)")
    parser.add_argument("--commands", action="store_true", help="also calls and Redis time per job, per command")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the worker and the server on the way out
    with RedisServer() as server:
        results = [one(server, args) for _ in range(args.runs)]
    med = {k: statistics.median(r.get(k, 0) for r in results) for k in results[0]}
    print(json.dumps({k: round(v, 2) for k, v in med.items()}))


if __name__ == "__main__":
    main()
