"""The workloads W1-W7, each a function of (system, server, options) returning plain numbers.

Every system gets the same private Redis, FLUSHALL before each workload, and the same task:
job i does ``HINCRBY bench:runs i 1`` (latency jobs: ``HSET bench:lat i <ms>``).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import time

from redis_server import RedisServer
from systems import System, wait_until

RUNS = "bench:runs"
LAT = "bench:lat"
SETTLE = 0.5  # seconds to wait after the last job before checking for duplicates


def enqueue_and_process(
    system: System, server: RedisServer, n: int, bulk: bool, processes: int, idle_seconds: float = 0.0
) -> dict:
    """W1/W1b (enqueue n jobs), then W2/W2b (start the workers, time until all n ran).

    With ``bulk=False`` this also yields W5 (memory per queued and per completed job) and,
    when ``idle_seconds`` is set, W6 (commands per second of the now idle worker).
    """
    server.flushall()
    base = server.settled_memory()
    out: dict = {"enqueue_seconds": system.enqueue(n, bulk=bulk)}
    if not bulk:
        out["mem_per_queued"] = (server.settled_memory() - base) / n
    out.update(_process(system, server, n, processes, idle_seconds))
    if not bulk and "error" not in out:
        runs_bytes = server.client.memory_usage(RUNS) or 0
        out["mem_per_completed"] = (server.settled_memory() - base - runs_bytes) / n
    return out


def _process(system: System, server: RedisServer, n: int, processes: int, idle_seconds: float) -> dict:
    client = server.client
    timeout = max(60.0, n / 100.0)
    start = time.perf_counter()
    workers = system.start_workers(processes, tag=f"w2-{processes}p")
    try:
        wait_until(lambda: client.hlen(RUNS) > 0 or not workers.alive(), timeout)
        first = time.perf_counter() - start
        wait_until(lambda: client.hlen(RUNS) >= n or not workers.alive(), timeout - first)
        seconds = time.perf_counter() - start
        time.sleep(SETTLE)
        counts = [int(v) for v in client.hvals(RUNS)]
        out = {"distinct": len(counts), "runs": sum(counts), "exactly_once": len(counts) == n and sum(counts) == n}
        if len(counts) < n:
            why = "a worker exited" if not workers.alive() else f"timeout {timeout:.0f}s"
            out["error"] = f"only {len(counts)} of {n} jobs ran ({why})"
            return out
        # seconds: startup included; first_job_seconds: from the worker's start to the first job's write
        out.update(seconds=seconds, first_job_seconds=first)
        if idle_seconds:
            out["idle_commands_per_s"] = idle_rate(server, idle_seconds)
    finally:
        workers.stop()
    return out


def empty_task(system: System, server: RedisServer, n: int) -> dict:
    """W2n: W2 with a task that does nothing at all (BENCH_TASK=empty), for the systems that
    say where they count completed jobs: what the queue costs by itself, and so, against W2,
    what the task's one write costs inside the worker."""
    server.flushall()
    system.enqueue(n, bulk=bool(system.info["bulk"]))
    done = system.info["completed_key"]
    timeout = max(60.0, n / 100.0)
    start = time.perf_counter()
    workers = system.start_workers(1, tag="w2n", BENCH_TASK="empty")
    try:
        wait_until(lambda: server.client.zcard(done) >= n or not workers.alive(), timeout)
        seconds = time.perf_counter() - start
        completed = server.client.zcard(done)
    finally:
        workers.stop()
    if completed < n:
        return {"error": f"W2n: only {completed} of {n} jobs completed"}
    return {"seconds": seconds}


def idle_rate(server: RedisServer, seconds: float) -> float:
    """W6: commands/s the server processes while only the idle worker talks to it."""
    time.sleep(1.0)  # let post-run housekeeping finish
    before = server.commands_processed()
    time.sleep(seconds)
    after = server.commands_processed()
    return (after - before - 1) / seconds  # minus our first INFO, counted in `after`


def latency(system: System, server: RedisServer, n: int, rate: float) -> dict:
    """W3: one idle worker; n jobs at a steady rate; start minus enqueue, in ms."""
    server.flushall()
    workers = system.start_workers(1, tag="w3")
    try:
        meta = system.latency(n, rate, abort=lambda: not workers.alive())
        wait_until(lambda: server.client.hlen(LAT) >= n or not workers.alive(), 30.0)
        samples = sorted(float(v) for v in server.client.hvals(LAT))
    finally:
        workers.stop()
    if len(samples) < n:
        return {"error": f"only {len(samples)} of {n} latency jobs ran"}
    return {
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
        "rate": meta.get("rate"),
        "samples": len(samples),
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


PRIMITIVES = "ping_mbulk,set,get,incr,lpush,rpop,sadd,hset,zadd,zpopmin"


def redis_limits(server: RedisServer, n: int, transitions: list[dict | None]) -> dict:
    """W4: redis-benchmark (50 clients, no pipelining) for the primitives and the Lua transitions."""
    base = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", "50", "--csv"]
    out = _benchmark_csv(base + ["-n", str(n), "-t", PRIMITIVES])
    server.flushall()
    for lua in filter(None, transitions):
        sha = server.client.script_load(lua["source"])
        argv = base + [
            "-n",
            str(max(1, n // 2)),
            "-r",
            "1000000",
            "EVALSHA",
            sha,
            str(len(lua["keys"])),
            *lua["keys"],
            *lua["args"],
        ]
        for rps in _benchmark_csv(argv).values():  # one row: the EVALSHA command line
            out[f"EVALSHA {lua['label']}"] = rps
        out[f"_check {lua['label']}"] = _lua_check(server)
        server.flushall()
    return out


def _lua_check(server: RedisServer) -> str:
    """What the Lua run left behind, as a sanity check (job ids handed out, keys)."""
    ids = server.client.get("q:ids") or "0"
    return f"{ids} job ids, {server.client.dbsize()} keys"


def _benchmark_csv(argv: list[str]) -> dict:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[:300] or "redis-benchmark failed")
    rows = {}
    for row in csv.reader(io.StringIO(done.stdout)):
        if len(row) >= 2 and row[0] != "test":
            rows[row[0]] = float(row[1])
    return rows


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() or None
    except OSError:
        node = None
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(mem, 1), "node": node}


def limited_claim(server: RedisServer, n: int = 2000) -> dict:
    """W7: what a fleet-wide limit costs a claim. n jobs each of a plain type, a type with a
    rate limit and one with a global concurrency (both set far above what the run reaches,
    so every claim passes the check), claimed one job per claim_jobs call, as a busy worker
    refills one slot: Redis's time per call (INFO commandstats) and the caller's round trip."""
    from pykue import Queue  # the project's own venv runs bench/run.py

    server.flushall()
    queue = Queue(server.url, "q")
    queue.set_rate_limit("rated", "999999999/s")
    queue.set_global_concurrency("capped", 2**31 - 1)
    store = queue.store.for_worker()
    store.renew_lease("bench", int(time.time() * 1000), 600_000)
    out = {}
    for job_type in ("plain", "rated", "capped"):
        queue.create_many([(job_type, {"i": i}) for i in range(n)])
        server.client.config_resetstat()
        started = time.perf_counter()
        for _ in range(n):
            store.claim_jobs(int(time.time() * 1000), "bench", {job_type: 1})
        elapsed = time.perf_counter() - started
        stats = server.client.info("commandstats").get("cmdstat_evalsha", {})
        out[f"{job_type} claim us (Redis)"] = round(float(stats.get("usec_per_call", 0.0)), 2)
        out[f"{job_type} claim us (round trip)"] = round(elapsed / n * 1e6, 1)
        out[f"{job_type} claimed"] = queue.count("active", job_type)
    queue.close()
    server.flushall()
    return out
