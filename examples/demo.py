"""``make demo``: an embedded Redis, a worker and the dashboard, with example jobs flowing.

Everything runs from this repository; press Ctrl-C to stop (the Redis data stays in
./demo-data for next time). PYKUE_DEMO_PORT picks another port than 3000.
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

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "demo-data"


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
    # Own sessions: Ctrl-C in the terminal reaches only this script, which then gives each
    # child exactly one SIGTERM (a second signal would make the worker exit without draining).
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "pykue", "worker", "-A", "tasks"], cwd=HERE, env=env, start_new_session=True
        ),
        subprocess.Popen(
            [sys.executable, "-m", "pykue", "dashboard", "-p", str(port), "--title", "pykue demo"],
            cwd=HERE,
            env=env,
            start_new_session=True,
        ),
    ]
    try:
        wait_for_dashboard(children[1], port)
        print(f"\n  pykue demo: dashboard on http://127.0.0.1:{port}/  (Ctrl-C to stop)\n", flush=True)
        produce_forever(children)
    except KeyboardInterrupt:
        pass
    finally:
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
    return 0


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


def produce_forever(children: list[subprocess.Popen]) -> None:
    from producer import produce

    rounds = int(os.environ.get("PYKUE_DEMO_ROUNDS", "0")) or None
    done = 0
    while rounds is None or done < rounds:
        for job in produce():
            print(f"saved job {job.id} {job.type} ({job.state})", flush=True)
        done += 1
        if any(child.poll() is not None for child in children):
            raise SystemExit("a demo process exited; see its output above")
        time.sleep(random.uniform(2, 4))


if __name__ == "__main__":
    sys.exit(main())
