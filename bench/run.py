"""pykue side by side with RQ, Celery, Dramatiq, Huey, arq, SAQ, Kue and BullMQ.

    make bench                                   # everything, installs included
    make bench BENCH_ARGS="--quick"              # a small smoke run
    make bench BENCH_ARGS="--systems pykue,rq --n 5000 --repeat 5"

One private redis-server (no persistence) serves the whole run; FLUSHALL separates every
workload. Prints one markdown table and writes bench/results/<timestamp>.json.
See docs/benchmarks.md for what each column means and how every system is configured.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import datetime as dt
import json
import os
import platform
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import workloads  # noqa: E402
from install import install  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from systems import BENCH, BY_NAME, SPECS, VARIANTS, AdapterError, System, kill_all  # noqa: E402

RESULTS = os.path.join(BENCH, "results")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--systems", default=",".join(s.name for s in SPECS), help="comma-separated subset of: %(default)s"
    )
    parser.add_argument("--n", type=int, default=None, help="jobs for W1/W2/W5 (default 20000; quick 1000)")
    parser.add_argument("--repeat", type=int, default=None, help="repeats; medians are quoted (default 3)")
    parser.add_argument("--latency-n", type=int, default=None, help="W3 jobs (default 2000)")
    parser.add_argument(
        "--latency-repeat",
        type=int,
        default=1,
        help="how many of the repeats also run W3 (default 1: W3 is already 2000 samples)",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="W3 enqueue rate, jobs/s")
    parser.add_argument("--idle-seconds", type=float, default=None, help="W6 window (default 3)")
    parser.add_argument("--limits-n", type=int, default=None, help="redis-benchmark -n for W4 (default 50000)")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=20.0,
        help="fewer repeats for systems that would end the run later than this (0: no limit)",
    )
    parser.add_argument(
        "--no-variants",
        action="store_true",
        help="skip the equal-settings, async and tuned rows (W2/W2b of pykue, Kue and BullMQ at other settings)",
    )
    parser.add_argument("--quick", action="store_true", help="a ten-minute run: n=5000, repeat 1, 400 W3 jobs")
    args = parser.parse_args(argv)
    quick = {"n": 5000, "repeat": 1, "latency_n": 400, "idle_seconds": 2.0, "limits_n": 10000}
    full = {"n": 20000, "repeat": 3, "latency_n": 2000, "idle_seconds": 3.0, "limits_n": 50000}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    unknown = [name for name in args.systems.split(",") if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown systems: {', '.join(unknown)}")
    return args


def measure(system: System, server: RedisServer, args: argparse.Namespace, deadline: float) -> dict:
    """All workloads for one system (W2 and W2b only for a variant), --repeat times; a failing
    workload is recorded, not fatal.

    A repeat that would end past ``deadline`` (the system's share of --budget-minutes) is
    skipped, so a slow or overloaded machine still finishes in time, with fewer repeats.
    """
    try:
        system.load_info()
    except Exception as exc:  # an adapter that cannot even describe itself: n/a, go on
        return {"error": _describe(exc)}
    steps = _variant_steps(system, server, args) if system.variant else _steps(system, server, args)
    repeats = _repeats(system, args, steps, deadline)
    median = report.summarise(repeats, args.n)
    if not system.info["bulk"] or system.variant:  # W1b then re-ran W1 only to queue W2b's jobs
        median["bulk_enqueue_per_s"] = None
    median["repeats"] = len(repeats)
    return {"info": system.info, "repeats": repeats, "median": median}


def _steps(system: System, server: RedisServer, args: argparse.Namespace) -> dict:
    steps = {
        "w1_w2": lambda: workloads.enqueue_and_process(
            system, server, args.n, bulk=False, processes=1, idle_seconds=args.idle_seconds
        ),
        "w1b_w2b": lambda: workloads.enqueue_and_process(
            system, server, args.n, bulk=bool(system.info["bulk"]), processes=2
        ),
        "w3": lambda: workloads.latency(system, server, args.latency_n, args.rate),
    }
    if "completed_key" in system.info:
        steps["w2n"] = lambda: workloads.empty_task(system, server, args.n)
    return steps


def _variant_steps(system: System, server: RedisServer, args: argparse.Namespace) -> dict:
    """W2 and W2b alone, each on jobs queued the fastest way the system has."""
    bulk = bool(system.info["bulk"])
    return {
        "w1_w2": lambda: workloads.enqueue_and_process(system, server, args.n, bulk=bulk, processes=1),
        "w1b_w2b": lambda: workloads.enqueue_and_process(system, server, args.n, bulk=bulk, processes=2),
    }


def _repeats(system: System, args: argparse.Namespace, steps: dict, deadline: float) -> list[dict]:
    repeats = []
    started = time.monotonic()
    for r in range(args.repeat):
        if r and started + (time.monotonic() - started) * (r + 1) / r > deadline:
            print(
                f"  {system.name}: {r} of {args.repeat} repeats, to stay within the time budget",
                file=sys.stderr,
                flush=True,
            )
            break
        one = {}
        for name, step in steps.items():
            if name == "w3" and r >= args.latency_repeat:
                continue
            t0 = time.monotonic()
            try:
                one[name] = step()
            except Exception as exc:  # recorded in the table; the next workload still runs
                one[name] = {"error": _describe(exc)}
            print(
                f"  {system.name} repeat {r + 1}/{args.repeat} {name}: {time.monotonic() - t0:.1f}s "
                f"{one[name].get('error', '')}",
                file=sys.stderr,
                flush=True,
            )
        repeats.append(one)
    return repeats


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, AdapterError) else f"{type(exc).__name__}: {exc}"


def lua_transitions(server: RedisServer, log_dir: str) -> list[dict | None]:
    """The Lua scripts W4 runs, named by the pykue adapter."""
    try:
        return System(BY_NAME["pykue"], server.url, log_dir).call("lua", timeout=60)["transitions"]
    except (AdapterError, KeyError) as exc:
        print(f"W4 Lua transitions skipped: {exc}", file=sys.stderr)
        return []


TASK_BODY_SYSTEMS = ("pykue", "bullmq")  # the Python worker, and the fastest peer's runtime and client


def task_bodies(specs, server: RedisServer, log_dir: str, n: int, install_errors: dict) -> dict:
    """W4b: the task body alone, in pykue's and BullMQ's runtimes with their clients."""
    out = {}
    for spec in specs:
        if spec.name in TASK_BODY_SYSTEMS and spec.name not in install_errors:
            try:
                out[spec.name] = System(spec, server.url, log_dir).call("task_body", n=n, timeout=300)
            except AdapterError as exc:
                out[spec.name] = {"error": str(exc)}
            server.flushall()
    return out


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    log_dir = os.path.join(RESULTS, f"logs-{stamp}")
    os.makedirs(log_dir, exist_ok=True)
    specs = [BY_NAME[name] for name in args.systems.split(",")]
    install_errors = install(specs, os.path.join(log_dir, "install.log"))
    install_seconds = time.monotonic() - started

    atexit.register(kill_all)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _interrupt)
    result = {"date": stamp, "args": vars(args), "machine": workloads.machine(), "systems": {}}
    result["machine"]["python"] = platform.python_version()
    result["machine"]["loadavg_start"] = os.getloadavg()
    with RedisServer() as server:
        try:
            result["machine"]["redis"] = server.version()
            print(f"redis-server {result['machine']['redis']} on port {server.port}", file=sys.stderr)
            try:
                result["limits"] = workloads.redis_limits(server, args.limits_n, lua_transitions(server, log_dir))
            except (OSError, RuntimeError) as exc:
                result["limits"] = {"error": str(exc)}
            result["task_body"] = task_bodies(specs, server, log_dir, args.n, install_errors)
            try:
                result["limited_claim"] = workloads.limited_claim(server)  # W7
            except (ImportError, OSError, RuntimeError) as exc:
                result["limited_claim"] = {"error": str(exc)}
            budget_end = started + args.budget_minutes * 60 if args.budget_minutes else float("inf")
            runs = [System(spec, server.url, log_dir) for spec in specs]
            if not args.no_variants:
                runs += [
                    System(BY_NAME[v.system], server.url, log_dir, v)
                    for v in VARIANTS
                    if v.system in BY_NAME and BY_NAME[v.system] in specs
                ]
            result["variants"] = {}
            for k, system in enumerate(runs):
                print(f"{system.name} ...", file=sys.stderr, flush=True)
                into = result["variants"] if system.variant else result["systems"]
                if system.spec.name in install_errors:
                    into[system.name] = {"error": install_errors[system.spec.name]}
                    continue
                # a variant runs two workloads, a system five: its share of the budget is smaller
                weights = [2 if r.variant else 5 for r in runs[k:]]
                share = weights[0] / sum(weights)
                deadline = time.monotonic() + (budget_end - time.monotonic()) * share
                into[system.name] = measure(system, server, args, deadline)
                if system.variant:
                    into[system.name]["variant"] = dataclasses.asdict(system.variant)
        finally:
            kill_all()
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["install_seconds"] = round(install_seconds, 1)
    result["total_seconds"] = round(time.monotonic() - started, 1)
    path = os.path.join(RESULTS, f"{stamp}.json")
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2)
    print(report.markdown(result))
    print(
        f"\nwrote {os.path.relpath(path)}; total {result['total_seconds']:.0f}s (installs {install_seconds:.0f}s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        kill_all()
        sys.exit(130)
