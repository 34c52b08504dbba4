"""The markdown tables printed at the end of a run (and pasted into docs/benchmarks.md)."""

from __future__ import annotations

import json
import statistics
import sys


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _ms(m: dict) -> str:
    if m.get("latency_p50_ms") is None:
        return "n/a"
    return " / ".join(f"{m[k]:.1f}" for k in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"))


HEADER = (
    "| system | version | W1 enqueue one/s | W1b bulk/s | W2 1 proc jobs/s | W2 first job s | "
    "W2b 2 procs jobs/s | exactly once | W3 p50 / p95 / p99 ms | W5 B/queued | W5 B/completed | "
    "W6 idle cmds/s |"
)


def summarise(repeats: list[dict], n: int) -> dict:
    """Medians over repeats; throughputs in jobs/s."""

    def med(step: str, key: str, per_job: bool = False):
        values = [r[step][key] for r in repeats if key in r.get(step, {})]
        if not values:
            return None
        value = statistics.median(values)
        return n / value if per_job else value

    return {
        "enqueue_per_s": med("w1_w2", "enqueue_seconds", per_job=True),
        "bulk_enqueue_per_s": med("w1b_w2b", "enqueue_seconds", per_job=True),
        "process_1p_per_s": med("w1_w2", "seconds", per_job=True),
        "process_2p_per_s": med("w1b_w2b", "seconds", per_job=True),
        "empty_1p_per_s": med("w2n", "seconds", per_job=True),
        "exactly_once": once(repeats),
        "first_job_s": med("w1_w2", "first_job_seconds"),
        "process_1p_after_first_per_s": steady(repeats, "w1_w2", n),
        "process_2p_after_first_per_s": steady(repeats, "w1b_w2b", n),
        "latency_p50_ms": med("w3", "p50"),
        "latency_p95_ms": med("w3", "p95"),
        "latency_p99_ms": med("w3", "p99"),
        "mem_per_queued": med("w1_w2", "mem_per_queued"),
        "mem_per_completed": med("w1_w2", "mem_per_completed"),
        "idle_commands_per_s": med("w1_w2", "idle_commands_per_s"),
        "errors": sorted({r[s]["error"] for r in repeats for s in r if "error" in r[s]}),
    }


def steady(repeats: list[dict], step: str, n: int) -> float | None:
    """Median jobs/s from the first job to the last: W2 without the worker's start-up."""
    rates = [
        (n - 1) / (r[step]["seconds"] - r[step]["first_job_seconds"])
        for r in repeats
        if "seconds" in r.get(step, {}) and r[step]["seconds"] > r[step]["first_job_seconds"]
    ]
    return statistics.median(rates) if rates else None


def once(repeats: list[dict]) -> dict | None:
    """Finished W2/W2b runs, and the jobs they ran twice (or more); None if no run finished."""
    done = [r[s] for r in repeats for s in ("w1_w2", "w1b_w2b") if "seconds" in r.get(s, {})]
    if not done:
        return None
    return {
        "runs": len(done),
        "bad_runs": sum(not d["exactly_once"] for d in done),
        "extra_runs": sum(d["runs"] - d["distinct"] for d in done),
    }


def _once(check: dict | None) -> str:
    if check is None:
        return "n/a"
    if not check["bad_runs"]:
        return f"yes ({check['runs']} runs)"
    extra = check["extra_runs"]
    return f"**no**: {extra} extra run{'s' if extra != 1 else ''} in {check['bad_runs']} of {check['runs']} runs"


def _empty_task_table(systems: dict) -> list[str]:
    """W2n beside W2: the queue alone, and what the task's one write adds to each job."""
    rows = [
        (name, row["median"])
        for name, row in systems.items()
        if "median" in row and row["median"].get("empty_1p_per_s")
    ]
    if not rows:
        return []
    lines = [
        "",
        "W2n, the queue alone: W2 with a task that does nothing (no write), one worker process:",
        "",
        "| system | W2n empty task jobs/s | W2 jobs/s | the write's cost in the worker, us/job |",
        "|---|---|---|---|",
    ]
    for name, md in rows:
        empty, full = md["empty_1p_per_s"], md.get("process_1p_per_s")
        cost = 1e6 / full - 1e6 / empty if full else None
        lines.append(f"| {name} | {_num(empty)} | {_num(full)} | {_num(cost)} |")
    return lines


PYTHON_PEERS = ("rq", "celery", "dramatiq", "huey", "arq", "saq")
EQUAL_SYSTEMS = ("pykue", "kue", "bullmq")
EQUAL_CONCURRENCY = (1, 10, 50)
MAIN_CONCURRENCY = {"pykue": 10, "kue": 10, "bullmq": 50}  # as in systems/__init__.py


def _median(row: dict | None, key: str) -> float | None:
    if not row or "median" not in row:
        return None
    return row["median"].get(key)


def _cell(result: dict, system: str, concurrency: int) -> dict | None:
    """The row holding ``system``'s W2/W2b at ``concurrency``: the main table's own, or a variant's."""
    if MAIN_CONCURRENCY.get(system) == concurrency:
        return result["systems"].get(system)
    return (result.get("variants") or {}).get(f"{system} c{concurrency}")


def _best_python_peer(result: dict, key: str) -> tuple[str, float] | None:
    figures = [(name, _median(result["systems"].get(name), key)) for name in PYTHON_PEERS]
    figures = [(name, value) for name, value in figures if value]
    return max(figures, key=lambda f: f[1]) if figures else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def equal_settings(result: dict) -> list[str]:
    """The headline: W2 and W2b of pykue, Kue and BullMQ at the same concurrency, each with
    its defaults otherwise, and pykue's ratios to them and to the best Python peer (at its
    documented defaults)."""
    if not any(_cell(result, s, c) for s in EQUAL_SYSTEMS for c in EQUAL_CONCURRENCY):
        return []
    keys = (("process_1p_per_s", "W2"), ("process_2p_per_s", "W2b"))
    head = " | ".join(f"{label} c={c}" for _, label in keys for c in EQUAL_CONCURRENCY)
    lines = [
        "",
        "Equal settings: W2 (1 worker process) and W2b (2 processes), jobs/s, every system at "
        "concurrency c and its defaults otherwise (pykue with no tuning flag):",
        "",
        f"| system | {head} |",
        "|---|" + "---|" * (len(keys) * len(EQUAL_CONCURRENCY)),
    ]
    figures = {
        (s, key, c): _median(_cell(result, s, c), key)
        for s in EQUAL_SYSTEMS
        for key, _ in keys
        for c in EQUAL_CONCURRENCY
    }
    for s in EQUAL_SYSTEMS:
        cells = " | ".join(_num(figures[s, key, c]) for key, _ in keys for c in EQUAL_CONCURRENCY)
        lines.append(f"| {s} | {cells} |")
    for other in ("kue", "bullmq"):
        cells = " | ".join(
            _ratio(figures["pykue", key, c], figures[other, key, c]) for key, _ in keys for c in EQUAL_CONCURRENCY
        )
        lines.append(f"| pykue / {other} | {cells} |")
    best = {key: _best_python_peer(result, key) for key, _ in keys}
    cells = " | ".join(
        _ratio(figures["pykue", key, c], best[key][1] if best[key] else None)
        for key, _ in keys
        for c in EQUAL_CONCURRENCY
    )
    named = ", ".join(f"{label} {best[key][0]} {_num(best[key][1])}" for key, label in keys if best[key])
    lines.append(f"| pykue / best Python peer ({named or 'none ran'}) | {cells} |")
    return lines


def variant_table(result: dict, table: str, title: str, extra: tuple[str, ...] = ()) -> list[str]:
    """W2/W2b rows of the variants of one table, beside the main rows named in ``extra``."""
    rows = [
        (name, row)
        for name, row in (result.get("variants") or {}).items()
        if row.get("variant", {}).get("table") == table
    ]
    if not rows:
        return []
    rows += [(name, result["systems"][name]) for name in extra if name in result["systems"]]
    lines = [
        "",
        title,
        "",
        "| row | settings | W2 1 proc jobs/s | W2b 2 procs jobs/s | exactly once |",
        "|---|---|---|---|---|",
    ]
    for name, row in rows:
        if "error" in row:
            lines.append(f"| {name} | n/a: {row['error'][:120]} | | | |")
            continue
        md = row["median"]
        config = row["info"].get("config", "").replace("|", "/")
        lines.append(
            f"| {name} | {config} | {_num(md['process_1p_per_s'])} | {_num(md['process_2p_per_s'])} | "
            f"{_once(md['exactly_once'])} |"
        )
    return lines


def markdown(result: dict) -> str:
    args = result["args"]
    m = result["machine"]
    lines = [
        f"Run {result['date']}: {m['cores']} cores ({m['cpu']}), Redis {m.get('redis')}, Python {m['python']}, "
        f"Node {m.get('node') or 'absent'}; N={args['n']}, repeat={args['repeat']} (medians), "
        f"W3 {args['latency_n']} jobs at {args['rate']:.0f}/s, W6 over {args['idle_seconds']:.0f}s; "
        f"load average {m['loadavg_start'][0]:.1f} at start, {m['loadavg_end'][0]:.1f} at end.",
        "",
    ]
    lines += equal_settings(result)
    lines += variant_table(
        result,
        "async",
        "async def tasks (the same write with redis.asyncio) beside the def task:",
        ("pykue", "arq", "saq"),
    )
    lines += variant_table(result, "tuned", "pykue tuned (below the equal-settings table; each row says its settings):")
    lines += [
        "",
        "Every workload, each system at the settings its row of docs/benchmarks.md gives:",
        "",
        HEADER,
        "|" + "---|" * HEADER.count(" | ") + "---|",
    ]
    notes = []
    for name, row in result["systems"].items():
        if "error" in row:
            error = row["error"][:120].replace("|", "/")
            lines.append(f"| {name} | | n/a: {error} |" + " |" * 9)
            continue
        md, info = row["median"], row["info"]
        bulk = _num(md["bulk_enqueue_per_s"]) if info.get("bulk") else "no bulk API"
        once = _once(md["exactly_once"])
        lines.append(
            f"| {name} | {info.get('version', '?')} | {_num(md['enqueue_per_s'])} | {bulk} | "
            f"{_num(md['process_1p_per_s'])} | {_num(md['first_job_s'], 2)} | {_num(md['process_2p_per_s'])} | "
            f"{once} | {_ms(md)} | "
            f"{_num(md['mem_per_queued'])} | {_num(md['mem_per_completed'])} | {_num(md['idle_commands_per_s'], 1)} |"
        )
        notes += [f"- {name}: {err}" for err in md["errors"]]
        if md.get("repeats", args["repeat"]) < args["repeat"]:
            notes.append(f"- {name}: {md['repeats']} of {args['repeat']} repeats (time budget)")
    for name, row in (result.get("variants") or {}).items():
        md = row.get("median") or {}
        notes += [f"- {name}: {err}" for err in md.get("errors", [])]
        if md and md.get("repeats", args["repeat"]) < args["repeat"]:
            notes.append(f"- {name}: {md['repeats']} of {args['repeat']} repeats (time budget)")
    limits = result.get("limits") or {}
    if limits:
        lines += [
            "",
            "W4, the server's limit (redis-benchmark, 50 clients, no pipelining):",
            "",
            "| command | ops/s |",
            "|---|---|",
        ]
        if "error" in limits:
            lines.append(f"| n/a | {limits['error']} |")
        lines += [
            f"| {cmd} | {_num(rps)} |" for cmd, rps in limits.items() if cmd != "error" and not cmd.startswith("_")
        ]
    bodies = result.get("task_body") or {}
    if bodies:
        lines += [
            "",
            "W4b, the task body alone (its one write, no queue), in the worker's runtime and client:",
            "",
            "| system | client | one at a time /s | CPU us each | in flight | at once /s | CPU us each |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, body in bodies.items():
            if "error" in body:
                lines.append(f"| {name} | n/a: {body['error']} |" + " |" * 5)
                continue
            lines.append(
                f"| {name} | {body['client']} | {_num(body['serial_per_s'])} | "
                f"{_num(body['serial_cpu_us'])} | {body['in_flight']} | {_num(body['concurrent_per_s'])} | "
                f"{_num(body['concurrent_cpu_us'])} |"
            )
    lines += _empty_task_table(result["systems"])
    if notes:
        lines += ["", "Notes:", ""] + notes
    return "\n".join(lines)


if __name__ == "__main__":  # re-render a saved run: python bench/report.py bench/results/<stamp>.json
    saved = json.load(open(sys.argv[1]))
    for row in [*saved["systems"].values(), *(saved.get("variants") or {}).values()]:
        if "repeats" in row:
            row["median"] = summarise(row["repeats"], saved["args"]["n"])
    print(markdown(saved))
