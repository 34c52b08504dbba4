"""``make demo``: an embedded Redis, a worker and the dashboard, with example jobs flowing.

Everything runs from this repository; press Ctrl-C to stop (the Redis data stays in
./demo-data for next time). PYKUE_DEMO_PORT picks another port than 3000. The terminal
shows one banner; the workers', the dashboard's and the job lines go to demo-data/demo.log.

The jobs fill every page within seconds: two worker processes (the Workers page), a few
long imports (Active), reminders (Delayed), a report that always fails (Failed), and a
newsletter type paused at start, whose jobs wait in Queued until resumed on the Overview.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "demo-data"
LOG = DATA / "demo.log"


def main() -> int:
    port = demo_port()
    if port_in_use(port):
        raise SystemExit(f"pykue demo: port {port} is in use; set PYKUE_DEMO_PORT to a free one")
    signal.signal(signal.SIGTERM, _interrupt)
    from pykue.embedded import ensure_embedded_server, stop_embedded_server

    ensure_embedded_server(DATA)
    env = {**os.environ, "PYKUE_REDIS_URL": f"embedded://{DATA}", "PYTHONUNBUFFERED": "1"}
    os.environ.update(env)
    sys.path.insert(0, str(HERE))
    log = open(LOG, "a", buffering=1)
    from tasks import queue

    queue.pause("newsletter")  # before any worker starts: its jobs wait in Queued until resumed
    # Own sessions: Ctrl-C in the terminal reaches only this script, which then gives each
    # child exactly one SIGTERM (a second signal would make the worker exit without draining).
    commands = [
        ["worker", "-A", "tasks"],
        ["worker", "-A", "tasks", "--types", "import,email,video", "--concurrency", "2"],
        ["dashboard", "-p", str(port), "--title", "pykue demo"],
    ]
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "pykue", *argv], cwd=HERE, env=env, stdout=log, stderr=log, start_new_session=True
        )
        for argv in commands
    ]
    try:
        wait_for_dashboard(children[-1], port)
        seed(log)
        print(banner(port), flush=True)
        produce_forever(children, log)
    except KeyboardInterrupt:
        pass
    finally:
        print("\n  pykue demo: stopping (jobs still running get a few seconds)...", flush=True)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up below finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        stop_embedded_server(DATA)
        log.close()
    return 0


def banner(port: int) -> str:
    rule = "  " + "─" * 64
    return "\n".join(
        [
            "",
            rule,
            f"  pykue demo   http://127.0.0.1:{port}/",
            "",
            "  The Overview, the Workers page and a page per job state, all live.",
            "  2 worker processes; their lines and the jobs made: demo-data/demo.log",
            "  Ctrl-C to stop (the data stays in demo-data/ for next time).",
            rule,
            "",
        ]
    )


def demo_port() -> int:
    value = os.environ.get("PYKUE_DEMO_PORT", "3000")
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
        raise SystemExit(f"pykue demo: PYKUE_DEMO_PORT must be a port number from 1 to 65535, not {value!r}")
    return int(value)


def port_in_use(port: int) -> bool:
    """Asked before anything starts: once the dashboard runs, a connection to the port
    cannot tell it from another program that already listened there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the dashboard's server does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_for_dashboard(process: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pykue demo: the dashboard exited (is port {port} in use? set PYKUE_DEMO_PORT)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # an answer all the same (a 503 while its Redis starts, say)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the dashboard did not start within {timeout:.0f}s")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def seed(log: TextIO) -> None:
    """What a newcomer should see at once: a paused type with jobs waiting, long imports
    running, reminders due later and a report that fails."""
    from tasks import build_report, import_contacts, remind, send_newsletter

    made = [send_newsletter.delay(issue=n, audience="subscribers") for n in range(41, 45)]
    made += [import_contacts.delay(source=source) for source in ("crm.csv", "mailchimp", "hubspot")]
    made += [remind.schedule(delay, user="ana", text="renew the TLS certificate") for delay in (45, 90, 180)]
    made.append(build_report.delay(month="2026-11"))
    note(log, made)


def note(log: TextIO, jobs: list) -> None:
    for job in jobs:
        log.write(f"saved job {job.id} {job.type} ({job.state})\n")


def produce_forever(children: list[subprocess.Popen], log: TextIO) -> None:
    from producer import produce
    from tasks import import_contacts

    rounds = int(os.environ.get("PYKUE_DEMO_ROUNDS", "0")) or None
    done = 0
    while rounds is None or done < rounds:
        note(log, produce())
        if done % 8 == 7:  # a new long import every half minute or so
            note(log, [import_contacts.delay(source=random.choice(["crm.csv", "hubspot", "salesforce"]))])
        done += 1
        if any(child.poll() is not None for child in children):
            raise SystemExit(f"a demo process exited; see {LOG}")
        time.sleep(random.uniform(2, 4))


if __name__ == "__main__":
    sys.exit(main())
