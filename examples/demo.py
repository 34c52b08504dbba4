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
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "demo-data"
PORT = int(os.environ.get("PYKUE_DEMO_PORT", "3000"))


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    from pykue.embedded import ensure_embedded_server, stop_embedded_server

    ensure_embedded_server(DATA)
    env = {**os.environ, "PYKUE_REDIS_URL": f"embedded://{DATA}", "PYTHONUNBUFFERED": "1"}
    os.environ.update(env)
    sys.path.insert(0, str(HERE))
    # Own sessions: Ctrl-C in the terminal reaches only this script, which then gives each
    # child exactly one SIGTERM (a second signal would make the worker exit without draining).
    children = [
        subprocess.Popen([sys.executable, "-m", "pykue", "worker", "-A", "tasks"], cwd=HERE, env=env,
                         start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "pykue", "dashboard", "-p", str(PORT), "--title", "pykue demo"],
                         cwd=HERE, env=env, start_new_session=True),
    ]
    try:
        wait_for_dashboard(children[1])
        print(f"\n  pykue demo: dashboard on http://127.0.0.1:{PORT}/  (Ctrl-C to stop)\n", flush=True)
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


def wait_for_dashboard(process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the dashboard exited (is port {PORT} in use? set PYKUE_DEMO_PORT)")
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=0.5):
                return
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
