"""Run the real ``pykue dashboard`` as a child process on a free port (browser and wheel tests).

The process is started with ``-p 0``; it prints ``Running on http://HOST:PORT`` and the
helper waits for that line, then for ``GET /stats`` to answer, before handing it out.
"""

from __future__ import annotations

import os
import queue as queue_module
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.redis_server import terminate

RUNNING = re.compile(r"Running on (http://\S+)")

#: Until ``pykue/cli.py`` registers the command, the click command object is run directly.
COMMAND_LAUNCHER = "from pykue.web.command import dashboard; dashboard(prog_name='pykue dashboard')"


def cli_available(python: str = sys.executable) -> bool:
    """True when ``python -m pykue dashboard`` works in that interpreter."""
    probe = "import pykue.cli, pykue.__main__, sys; sys.exit(0 if 'dashboard' in pykue.cli.main.commands else 1)"
    done = subprocess.run([python, "-c", probe], capture_output=True, cwd=Path(python).parent, timeout=60)
    return done.returncode == 0


def launcher(python: str = sys.executable) -> list[str]:
    if cli_available(python):
        return [python, "-m", "pykue", "dashboard"]
    return [python, "-c", COMMAND_LAUNCHER]


class DashboardProcess:
    def __init__(
        self,
        args: list[str],
        *,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """``args`` go to ``pykue dashboard -p 0``; ``command`` replaces the whole command line."""
        self.argv = command or [*launcher(python), "-p", "0", *args]
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.url = ""
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._lines: queue_module.Queue[str | None] = queue_module.Queue()

    def start(self, timeout: float = 30.0) -> DashboardProcess:
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env, cwd=self.cwd
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self.url:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue_module.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the dashboard did not start: {self.argv}\n" + "".join(self.lines))
            match = RUNNING.search(line or "")
            if match:
                self.url = match.group(1)
        self._wait_answering(deadline)
        return self

    def _pump(self) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_answering(self, deadline: float) -> None:
        while True:
            try:
                urllib.request.urlopen(self.url + "/stats", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (401 behind --auth)
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the dashboard never answered:\n" + "".join(self.lines)) from None
                time.sleep(0.05)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)

    def __enter__(self) -> DashboardProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
