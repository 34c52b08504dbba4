"""What pykue's Lua costs Redis per job, without a worker: the claim-and-complete cycle a
worker runs (``--batch`` jobs per call, as a worker at about that concurrency sends them) or
single saves (``--save``, ``task.delay``), on a private redis-server.

By default Redis's own account (``INFO commandstats``): time per job in the script calls,
and how much of it the commands they call took, the rest being Lua. With ``--callgrind``
Redis runs under ``valgrind --tool=callgrind`` and the figure is its instructions per job,
counted only around the measured calls: deterministic to 0.1%, where times on a shared VM
swing by a third. ``--root`` measures another pykue tree; ``PYKUE_REDIS_FUNCTIONS=0`` keeps
to EVALSHA::

    .venv/bin/python bench/lua_cost.py --batch 4 --callgrind
    .venv/bin/python bench/lua_cost.py --save --callgrind --root /path/to/other/tree
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from redis_server import free_port  # noqa: E402

WORKER = "bench:1:lua-cost"
SCRIPT_COMMANDS = ("cmdstat_evalsha", "cmdstat_fcall")


def start_redis(port: int, workdir: str, callgrind: bool) -> subprocess.Popen[bytes]:
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", workdir]
    if callgrind:
        out = os.path.join(workdir, "callgrind.out")
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--instr-atstart=no", *argv]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def collecting(proc: subprocess.Popen[bytes], on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(proc.pid)], capture_output=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=4, help="jobs per claim-and-complete call")
    parser.add_argument("--n", type=int, default=None, help="jobs measured (default 4000, 200 with --callgrind)")
    parser.add_argument("--save", action="store_true", help="single saves instead of the cycle")
    parser.add_argument("--callgrind", action="store_true", help="Redis's instructions per job")
    parser.add_argument("--root", default=os.path.dirname(HERE), help="the pykue tree to measure")
    args = parser.parse_args()
    if args.callgrind and not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        parser.error("--callgrind needs valgrind (callgrind_control) on PATH")
    sys.path.insert(0, args.root)
    import redis

    from pykue import Queue

    try:
        from pykue.transport.functions import enabled as functions_enabled
    except ImportError:  # a tree from before Redis Functions

        def functions_enabled() -> bool:
            return False

    n = args.n or (200 if args.callgrind else 4000)
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="pykue-lua-cost-")
    proc = start_redis(port, workdir, args.callgrind)
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        queue = Queue(redis=f"redis://127.0.0.1:{port}/0", prefix="q")
        measure = measure_saves if args.save else measure_cycle
        start, stop = (
            (lambda: collecting(proc, True), lambda: collecting(proc, False))
            if args.callgrind
            else (
                client.config_resetstat,
                lambda: None,
            )
        )
        jobs = measure(queue, client, n, args.batch, start, stop)
        out: dict[str, object] = {"what": "save" if args.save else f"cycle, {args.batch} per call", "jobs": jobs}
        out["functions"] = functions_enabled()
        if args.callgrind:
            client.shutdown(nosave=True)
            proc.wait(60)
            text = open(os.path.join(workdir, "callgrind.out")).read()
            out["redis_instructions_per_job"] = round(int(re.search(r"^totals: (\d+)", text, re.M).group(1)) / jobs)
        else:
            stats = client.info("commandstats")
            scripts = sum(stats[k]["usec"] for k in SCRIPT_COMMANDS if k in stats)
            inner = sum(v["usec"] for k, v in stats.items() if k not in SCRIPT_COMMANDS and "config" not in k)
            out["redis_us_per_job"] = round(scripts / jobs, 2)
            out["commands_us_per_job"] = round(inner / jobs, 2)
        print(json.dumps(out))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def measure_saves(queue, client, n, batch, start, stop) -> int:
    task = queue.task("task0")(lambda i: None)
    for i in range(20):  # scripts loaded, caches warm
        task.delay(i=i)
    start()
    for i in range(n):
        task.delay(i=i)
    stop()
    return n


def measure_cycle(queue, client, n, batch, start, stop) -> int:
    """Claim ``batch`` jobs, then complete them and claim ``batch`` more in one call, as a
    worker's reports do, until n jobs are done."""
    from pykue.job_hash import now_ms

    task = queue.task("task0")(lambda i: None)
    total = n + 3 * batch
    for first in range(0, total, 500):
        task.delay_many([{"i": i} for i in range(first, min(total, first + 500))])
    client.set(queue.keys.worker_lease(WORKER), 1)
    now = now_ms()
    scripts, rc = queue.scripts, queue.client

    def cycle(held):
        done = scripts.complete_jobs(rc, now, held, WORKER, {"task0": batch}, now)
        assert all(done.replies), done.replies
        return [(c.id, c.claim, "") for c in done.claimed]

    held = [(c.id, c.claim, "") for c in scripts.claim_jobs(rc, now, WORKER, {"task0": batch}).claimed]
    for _ in range(2):
        held = cycle(held)
    start()
    jobs = 0
    while len(held) == batch and jobs + batch <= n:
        jobs += batch
        held = cycle(held)
    stop()
    return jobs


if __name__ == "__main__":
    main()
