"""The markdown tables printed at the end of a run (and pasted into docs/benchmarks.md)."""
from __future__ import annotations


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _ms(m: dict) -> str:
    if m.get("latency_p50_ms") is None:
        return "n/a"
    return " / ".join(f"{m[k]:.1f}" for k in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"))


HEADER = ("| system | version | W1 enqueue one/s | W1b bulk/s | W2 1 proc jobs/s | W2 first job s | W2b 2 procs jobs/s | "
          "exactly once | W3 p50 / p95 / p99 ms | W5 B/queued | W5 B/completed | W6 idle cmds/s |")


def markdown(result: dict) -> str:
    args = result["args"]
    m = result["machine"]
    lines = [
        f"Run {result['date']}: {m['cores']} cores ({m['cpu']}), Redis {m.get('redis')}, Python {m['python']}, "
        f"Node {m.get('node') or 'absent'}; N={args['n']}, repeat={args['repeat']} (medians), "
        f"W3 {args['latency_n']} jobs at {args['rate']:.0f}/s, W6 over {args['idle_seconds']:.0f}s; "
        f"load average {m['loadavg_start'][0]:.1f} at start, {m['loadavg_end'][0]:.1f} at end.",
        "",
        HEADER,
        "|" + "---|" * HEADER.count(" | ") + "---|",
    ]
    notes = []
    for name, row in result["systems"].items():
        if "error" in row:
            lines.append(f"| {name} | | n/a: {row['error'][:120]} |" + " |" * 9)
            continue
        md, info = row["median"], row["info"]
        bulk = _num(md["bulk_enqueue_per_s"]) if info.get("bulk") else "no bulk API"
        once = {True: "yes", False: "**no**", None: "n/a"}[md["exactly_once"]]
        lines.append(
            f"| {name} | {info.get('version', '?')} | {_num(md['enqueue_per_s'])} | {bulk} | "
            f"{_num(md['process_1p_per_s'])} | {_num(md['first_job_s'], 2)} | {_num(md['process_2p_per_s'])} | {once} | {_ms(md)} | "
            f"{_num(md['mem_per_queued'])} | {_num(md['mem_per_completed'])} | {_num(md['idle_commands_per_s'], 1)} |"
        )
        notes += [f"- {name}: {err}" for err in md["errors"]]
    limits = result.get("limits") or {}
    if limits:
        lines += ["", "W4, the server's limit (redis-benchmark, 50 clients, no pipelining):", "",
                  "| command | ops/s |", "|---|---|"]
        if "error" in limits:
            lines.append(f"| n/a | {limits['error']} |")
        lines += [f"| {cmd} | {_num(rps)} |" for cmd, rps in limits.items() if cmd != "error"]
    if notes:
        lines += ["", "Errors:", ""] + notes
    return "\n".join(lines)
