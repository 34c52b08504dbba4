"""A worker's instructions per job, counted by callgrind: A/B work on pykue's own Python.

bench/probe.py measures CPU seconds, which swing by a fifth between runs on a shared VM: a
change of a few percent in the worker's Python does not show there. This runs one burst
worker under ``valgrind --tool=callgrind`` twice, on N jobs and on BASE jobs, and reports
(instructions(N) - instructions(BASE)) / (N - BASE): the worker process's user-space
instructions per job, start-up and shutdown cancelled out. It repeats to about 2% (timing
still decides how many upkeep ticks and idle wake-ups fall inside a run, and at concurrency
10 valgrind's one-thread-at-a-time scheduling shapes the batches): run each variant twice,
alternating. System calls are not counted (they are the kernel's), nor is Redis
(bench/lua_cost.py counts that)::

    .venv/bin/python bench/worker_instructions.py --concurrency 1
    .venv/bin/python bench/worker_instructions.py --concurrency 1 --empty --root /path/to/other/tree
    .venv/bin/python bench/worker_instructions.py --skeleton --empty   # bench/floor.py's loop

``--empty``: the task does nothing (no redis-py write). ``--skeleton``: instead of pykue's
worker, bench/floor.py's ``run_inline`` on the same jobs (each job completed and the next
claimed in one ``complete_jobs`` call, with no other Python): the difference from the worker
at concurrency 1 is what pykue's own per-job Python costs. Slow by nature: about 20 s a
count at concurrency 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from redis_server import RedisServer  # noqa: E402

SKELETON = """
import sys, redis, floor
url, empty = sys.argv[1], sys.argv[2] == "1"
jobs = floor.Kue(url)
client = redis.Redis.from_url(url)
def task(i):
    if not empty:
        client.hincrby("bench:runs", i, 1)
floor.run_inline(jobs, task, 1)
"""


def count(args: argparse.Namespace, server: RedisServer, n: int) -> int:
    """The instructions of one worker process that runs ``n`` queued jobs to the end."""
    assert server.client is not None
    server.client.flushall()
    python = os.path.join(args.root, ".venv", "bin", "python")
    env = dict(
        os.environ,
        BENCH_REDIS_URL=server.url,
        BENCH_CONCURRENCY=str(args.concurrency),
        PYTHONPATH=os.pathsep.join([os.path.join(HERE, "systems"), HERE, args.root]),
    )
    env.pop("BENCH_TASK", None)
    if args.empty:
        env["BENCH_TASK"] = "empty"
    if args.skeleton:
        enqueue = f"import floor; floor.Kue.enqueue({server.url!r}, {n})"
        argv = [python, "-c", SKELETON, server.url, "1" if args.empty else "0"]
    else:
        enqueue = f"import pykue_; pykue_.enqueue_bulk(list(range({n})))"
        pykue = os.path.join(args.root, ".venv", "bin", "pykue")
        argv = [python, pykue, "worker", "-A", "pykue_", "--redis", server.url, "--prefix", "q"]
        argv += ["--concurrency", str(args.concurrency), "--burst", "--loglevel", "warning", "--no-pin-cpu"]
    subprocess.run([python, "-c", enqueue], env=env, cwd=os.path.join(HERE, "systems"), check=True)
    workdir = tempfile.mkdtemp(prefix="pykue-worker-instr-")
    out = os.path.join(workdir, "callgrind.out")
    try:
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
            env=env,
            cwd=os.path.join(HERE, "systems"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        text = open(out).read()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    done = server.client.zcard("q:jobs:complete")
    if done != n:
        raise SystemExit(f"only {done} of {n} jobs completed under valgrind")
    return int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))


def _count_arg(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=os.path.dirname(HERE), help="the pykue tree (with its .venv)")
    parser.add_argument("--concurrency", type=_count_arg, default=1)
    parser.add_argument("--n", type=_count_arg, default=1200, help="jobs of the long count")
    parser.add_argument("--base", type=_count_arg, default=200, help="jobs of the short count")
    parser.add_argument("--empty", action="store_true", help="a task that does nothing")
    parser.add_argument("--skeleton", action="store_true", help="bench/floor.py's inline loop, not pykue's worker")
    args = parser.parse_args()
    if args.n <= args.base:
        parser.error(f"--n ({args.n}) must be more than --base ({args.base})")
    if args.skeleton and args.concurrency != 1:
        parser.error("--skeleton runs floor.py's loop on one thread: leave --concurrency at 1")
    if not shutil.which("valgrind"):
        parser.error("needs valgrind on PATH")
    server = RedisServer().start()
    try:
        long, short = count(args, server, args.n), count(args, server, args.base)
    finally:
        server.stop()
    print(
        json.dumps(
            {
                "what": "skeleton" if args.skeleton else f"worker, concurrency {args.concurrency}",
                "empty": args.empty,
                "instructions_per_job": round((long - short) / (args.n - args.base)),
            }
        )
    )


if __name__ == "__main__":
    main()
