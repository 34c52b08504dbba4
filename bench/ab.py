"""Interleaved A/B runs of bench/probe.py, for changes smaller than the machine's noise.

On a shared or virtual machine jobs/s of the same code swing by a third between back-to-back
runs; alternating the variants round by round and quoting medians puts both under the same
noise. Each variant is ``label::ENV=.. ROOT=<tree>::probe options``::

    .venv/bin/python bench/ab.py --rounds 3 \\
        "before::ROOT=/path/to/main-before::--concurrency 10 --n 20000" \\
        "after::::--concurrency 10 --n 20000"

prints one line per variant: the medians of the probe's figures and every run's jobs/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHOWN = ("jobs_per_s", "worker_cpu_us", "worker_sys_us", "redis_cpu_us", "switches")


def run(variant: str) -> dict:
    label, env_text, options = (variant.split("::") + ["", ""])[:3]
    env = dict(os.environ)
    for pair in shlex.split(env_text):
        key, _, value = pair.partition("=")
        env[key] = value
    root = env.pop("ROOT", os.path.dirname(HERE))
    argv = [sys.executable, os.path.join(HERE, "probe.py"), "--root", root, *shlex.split(options)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("variants", nargs="+", help="label::ENV=value ROOT=tree::probe options")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {v: [] for v in args.variants}
    for _ in range(args.rounds):
        for variant in args.variants:
            results[variant].append(run(variant))
    for variant, rows in results.items():
        medians = " ".join(f"{k}={statistics.median(r.get(k, 0) for r in rows):.1f}" for k in SHOWN)
        every = sorted(round(r["jobs_per_s"]) for r in rows)
        print(f"{variant.split('::')[0]:28s} {medians}  jobs/s each: {every}")


if __name__ == "__main__":
    main()
