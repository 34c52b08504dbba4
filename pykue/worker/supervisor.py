"""``--processes N``: run N worker processes, restart one that dies, pass signals on.

On Linux, a child is forked from the supervisor, which has imported the app already: it
starts its worker at once, where a fresh interpreter would import redis-py, pykue and the app
again (about 0.3 s of CPU here, paid by every child at the same time while the queue waits).
A forked child builds its own workers (its own ids, clients and lanes), as Celery's prefork
pool and RQ's forks do after loading the app. A supervisor that runs a thread of its own by
then (an app that listens to queue events at import, say) does not fork, since a fork keeps
only the thread that forks; nor off Linux (macOS frameworks may not survive a fork, which is
why multiprocessing spawns there). Those children are ``python -m pykue`` with the same
arguments, each importing everything anew.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

from .affinity import SLOT_ENV

log = logging.getLogger("pykue.supervisor")
SUPERVISOR_ENV = "PYKUE_SUPERVISOR_PID"
QUICK_DEATH_SECONDS = 5.0
#: What the supervisor sends its children to stop them gracefully. Not SIGTERM: a service
#: manager that signals the whole cgroup (systemd's default) also sends each child a SIGTERM,
#: and a second SIGTERM means "exit now". A stop request, however often repeated, never does.
STOP_SIGNAL = signal.SIGUSR1

# Read once, and not passed on: a `pykue worker` that a task starts is not this supervisor's.
_supervisor_pid = os.environ.pop(SUPERVISOR_ENV, "")


def supervisor_gone() -> bool:
    """In a child: True once the supervisor that started it has died (it was SIGKILLed)."""
    return bool(_supervisor_pid) and os.getppid() != int(_supervisor_pid)


class Child(Protocol):
    """What the supervisor uses of a child: subprocess.Popen's few methods."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def kill(self) -> None: ...


class ForkedChild:
    """A child forked from the supervisor, seen through Popen's methods."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped already: its status is lost
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.01)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Supervisor:
    def __init__(
        self,
        argv: list[str],
        processes: int,
        shutdown_timeout: float,
        burst: bool = False,
        run_child: Callable[[], None] | None = None,
    ) -> None:
        """``run_child()`` runs a forked child's workers (and never returns: the process
        exits); without it, or without fork, children are ``python -m pykue *argv``."""
        self.argv = argv
        self.processes = processes
        self.shutdown_timeout = shutdown_timeout
        self.burst = burst  # a child exiting 0 drained the queue: not restarted
        # macOS: frameworks a process has loaded may not survive a fork (why multiprocessing spawns there)
        self.run_child = run_child if sys.platform.startswith("linux") else None
        self.children: list[Child] = []
        self.stopping = False
        self.restarts = 0
        self.started_at: list[float] = []
        self.quick_deaths: list[int] = []
        self.restart_at: list[float] = []

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.children = [self._spawn(i) for i in range(self.processes)]
        if self.stopping:  # a signal came while they started: the handler did not see them all
            self._stop_children()
        self.started_at = [time.monotonic()] * self.processes
        self.quick_deaths = [0] * self.processes
        self.restart_at = [0.0] * self.processes
        while not self.stopping and not self._drained():
            for i, child in enumerate(self.children):
                if child.poll() is not None and not self.stopping and not (self.burst and child.returncode == 0):
                    self._restart(i)
            time.sleep(0.2)
        return self._wait_children()

    def _restart(self, i: int) -> None:
        """Start another process in slot i; one that keeps dying young waits longer each time
        (up to 30 s), so a worker that cannot start does not spin."""
        now = time.monotonic()
        if self.restart_at[i] == 0.0:
            lived = now - self.started_at[i]
            self.quick_deaths[i] = self.quick_deaths[i] + 1 if lived < QUICK_DEATH_SECONDS else 0
            delay = min(30.0, 0.5 * 2 ** (self.quick_deaths[i] - 1)) if self.quick_deaths[i] else 0.0
            self.restart_at[i] = now + delay
            log.warning(
                "worker process %s exited with %s after %.1fs; starting another%s",
                self.children[i].pid,
                self.children[i].returncode,
                lived,
                f" in {delay:.1f}s" if delay else "",
            )
        if now >= self.restart_at[i]:
            self.restarts += 1
            self.children[i] = self._spawn(i)
            self.started_at[i], self.restart_at[i] = time.monotonic(), 0.0
            if self.stopping:
                self._stop_children()

    def _drained(self) -> bool:
        return self.burst and all(child.poll() == 0 for child in self.children)

    def _spawn(self, slot: int) -> Child:
        # Own session: a Ctrl-C or a signal to the process group reaches only the supervisor,
        # which passes a stop request on.
        child: Child
        if self.run_child is not None and threading.active_count() == 1:
            child = ForkedChild(self._fork(slot, self.run_child))
        else:
            env = {**os.environ, SUPERVISOR_ENV: str(os.getpid()), SLOT_ENV: str(slot)}
            child = subprocess.Popen([sys.executable, "-m", "pykue", *self.argv], start_new_session=True, env=env)
        log.info("started worker process %s", child.pid)
        return child

    @staticmethod
    def _fork(slot: int, run_child: Callable[[], None]) -> int:
        global _supervisor_pid
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:  # the child: never back into the supervisor's loop
            os.setsid()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            _supervisor_pid = str(parent)
            os.environ[SLOT_ENV] = str(slot)  # read by the pinning, as a spawned child's is
            run_child()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            log.exception("worker process failed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping:
            for child in self.children:
                child.kill()
            sys.exit(1)
        self.stopping = True
        self._stop_children()

    def _stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(STOP_SIGNAL)

    def _wait_children(self) -> int:
        """0 once every child has stopped by itself; 1 if one had to be killed."""
        deadline = time.monotonic() + self.shutdown_timeout + 10
        killed = False
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker process %s did not stop within the shutdown timeout: killing it", child.pid)
                child.kill()
                child.wait()
                killed = True
        return 1 if killed else 0
