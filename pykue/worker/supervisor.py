"""``--processes N``: run N worker processes, restart one that dies, pass signals on."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

log = logging.getLogger("pykue.supervisor")
SUPERVISOR_ENV = "PYKUE_SUPERVISOR_PID"


def supervisor_gone() -> bool:
    """In a child: True once the supervisor that started it has died (it was SIGKILLed)."""
    pid = os.environ.get(SUPERVISOR_ENV)
    return bool(pid) and os.getppid() != int(pid)


class Supervisor:
    def __init__(self, argv: list[str], processes: int, shutdown_timeout: float, burst: bool = False) -> None:
        self.argv = argv
        self.processes = processes
        self.shutdown_timeout = shutdown_timeout
        self.burst = burst  # a child exiting 0 drained the queue: not restarted
        self.children: list[subprocess.Popen[bytes]] = []
        self.stopping = False
        self.restarts = 0

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.children = [self._spawn() for _ in range(self.processes)]
        while not self.stopping and not self._drained():
            for i, child in enumerate(self.children):
                if child.poll() is not None and not self.stopping and not (self.burst and child.returncode == 0):
                    log.warning("worker process %s exited with %s; starting another", child.pid, child.returncode)
                    self.restarts += 1
                    self.children[i] = self._spawn()
            time.sleep(0.2)
        return self._wait_children()

    def _drained(self) -> bool:
        return self.burst and all(child.poll() == 0 for child in self.children)

    def _spawn(self) -> subprocess.Popen[bytes]:
        # Own session: a Ctrl-C or a signal to the whole group reaches only the supervisor,
        # which passes exactly one SIGTERM on (two would make a child exit without draining).
        env = {**os.environ, SUPERVISOR_ENV: str(os.getpid())}
        child = subprocess.Popen([sys.executable, "-m", "pykue", *self.argv], start_new_session=True, env=env)
        log.info("started worker process %s", child.pid)
        return child

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping:
            for child in self.children:
                child.kill()
            sys.exit(1)
        self.stopping = True
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def _wait_children(self) -> int:
        deadline = time.monotonic() + self.shutdown_timeout + 10
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        return 0
