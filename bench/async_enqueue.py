"""W1a: enqueue from asyncio. pykue's ``await task.adelay(...)`` beside its sync ``delay`` and
beside arq's ``enqueue_job`` and SAQ's ``enqueue``, each against the same private Redis.

    .venv/bin/python bench/async_enqueue.py                     # 5000 jobs, 3 repeats
    .venv/bin/python bench/async_enqueue.py --n 1000 --repeat 1 # a quick check

Two ways for each system: "serial", one call after the other (W1's way), and "concurrent",
``--in-flight`` coroutines enqueuing at once on one event loop (an asyncio app serving many
requests; async producers only), with the producer's CPU time per job beside the rate (it
moves less than the rate on a busy machine). After each run the jobs stored are counted: a run that did
not store exactly n jobs is reported as an error, not a figure. Medians of --repeat runs.
Like every benchmark here: run it on a quiet machine (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from install import install  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from systems import BENCH, BY_NAME, AdapterError, System, kill_all  # noqa: E402

SYSTEMS = ("pykue", "pykue-async", "arq", "saq")
ASYNC = {"pykue-async", "arq", "saq"}


def stored(name: str, client) -> int:
    """How many jobs the system holds queued after an enqueue run."""
    if name.startswith("pykue"):
        return client.zcard("q:jobs")
    if name == "arq":
        return client.zcard("arq:queue")
    return client.llen("saq:bench:queued")


def measure(system: System, server: RedisServer, mode: str, n: int, in_flight: int) -> tuple[float, float] | str:
    """(jobs/s, producer CPU microseconds per job), or what went wrong."""
    server.flushall()
    try:
        if mode == "serial":
            out = system.call("enqueue", n=n)
        else:
            out = system.call("enqueue_concurrent", n=n, **{"in-flight": in_flight})
    except AdapterError as exc:
        return f"error: {exc}"
    count = stored(system.name, server.client)
    if count != n:
        return f"error: {count} of {n} jobs stored"
    return n / out["seconds"], out["cpu_seconds"] / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="some of %(default)s")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=50, help="coroutines at once (default %(default)s)")
    args = parser.parse_args(argv)
    names = args.systems.split(",")
    specs = [BY_NAME[name] for name in names]
    log_dir = os.path.join(BENCH, "results", "logs-async-enqueue")
    os.makedirs(log_dir, exist_ok=True)
    errors = install(specs, os.path.join(log_dir, "install.log"))
    rows = []
    try:
        with RedisServer() as server:
            for spec in specs:
                system = System(spec, server.url, log_dir)
                for mode in ("serial", "concurrent"):
                    if mode == "concurrent" and spec.name not in ASYNC:
                        continue
                    if spec.name in errors:
                        rows.append((spec.name, mode, errors[spec.name]))
                        continue
                    runs = [measure(system, server, mode, args.n, args.in_flight) for _ in range(args.repeat)]
                    failed = [r for r in runs if isinstance(r, str)]
                    if failed:
                        rows.append((spec.name, mode, failed[0]))
                    else:
                        medians = tuple(statistics.median(run[k] for run in runs) for k in (0, 1))
                        rows.append((spec.name, mode, medians))
                    print(f"  {spec.name} {mode}: {rows[-1][2]}", file=sys.stderr, flush=True)
    finally:
        kill_all()
    print(f"\nW1a enqueue, n={args.n}, median of {args.repeat}, concurrent = {args.in_flight} coroutines\n")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (figures from a loaded machine mean little)\n")
    print("| system | mode | jobs/s | producer CPU us/job |\n|---|---|---|---|")
    for name, mode, value in rows:
        shown = f"{value[0]:,.0f} | {value[1]:.0f}" if isinstance(value, tuple) else f"{value} |"
        print(f"| {name} | {mode} | {shown} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
