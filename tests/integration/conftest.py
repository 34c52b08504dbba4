"""Worker fixtures: in-process workers (burst or threaded) and ``pykue worker`` subprocesses.

Both kinds run the tasks of ``tests/workerapp/app.py``, which record their runs in Redis
under ``wt:`` keys. Every worker a test starts is stopped (threads) or killed (processes,
with their whole process group) at teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pykue.worker import Worker
from tests.helpers import wait_for
from tests.workerapp.app import build
from tests.workerapp.support import APP, REPO_ROOT


@pytest.fixture
def app_queue(client, redis_server):
    """The test app's Queue (prefix ``q``) on the session's private Redis, flushed."""
    queue = build(redis_server.url, "q")
    yield queue
    queue.close()


class InProcessWorkers:
    """``burst(...)`` runs ``Worker(queue, burst=True).run()`` to the end; ``start(...)`` runs a
    worker on a thread until the test ends (or ``stop``)."""

    def __init__(self, queue) -> None:
        self.queue = queue
        self.threads: list[tuple[Worker, threading.Thread]] = []
        self.crashes: list[BaseException] = []

    def _thread(self, worker: Worker) -> threading.Thread:
        def run() -> None:
            try:
                worker.run()
            except BaseException as error:  # a worker must never die of an exception
                self.crashes.append(error)
                raise

        return threading.Thread(target=run, daemon=True)

    def make(self, queue=None, **options) -> Worker:
        options.setdefault("promote_interval", 0.05)
        options.setdefault("stalled_timeout", 2.0)
        options.setdefault("shutdown_timeout", 2.0)
        return Worker(queue or self.queue, **options)

    def burst(self, queue=None, timeout: float = 20.0, **options) -> Worker:
        worker = self.make(queue, burst=True, **options)
        thread = self._thread(worker)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            worker.stop(0)
            thread.join(5)
            raise AssertionError(f"burst worker still running after {timeout}s")
        assert not self.crashes, f"the worker crashed: {self.crashes!r}"
        return worker

    def start(self, queue=None, **options) -> Worker:
        worker = self.make(queue, **options)
        thread = self._thread(worker)
        thread.start()
        self.threads.append((worker, thread))
        wait_for(lambda: worker in worker.queue.local_workers, 5, message="the worker to start")
        return worker

    def stop(self, worker: Worker, timeout: float = 5.0) -> None:
        for w, thread in self.threads:
            if w is worker:
                w.stop()
                thread.join(timeout + worker.shutdown_timeout)
                assert not thread.is_alive(), "worker thread did not stop"

    def close(self) -> None:
        for worker, _ in self.threads:
            worker.stop(0)
        for _, thread in self.threads:
            thread.join(10)
        stuck = [worker.id for worker, thread in self.threads if thread.is_alive()]
        assert not stuck, f"workers still running 10 s after stop(0): {stuck}"
        assert not self.crashes, f"a worker crashed: {self.crashes!r}"


@pytest.fixture
def workers(app_queue):
    """Factory of in-process workers on ``app_queue`` (or another queue given to it)."""
    factory = InProcessWorkers(app_queue)
    yield factory
    factory.close()


class WorkerProcess:
    """One ``python -m pykue worker`` subprocess; its output goes to ``log_path``."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, count: int = 1, timeout: float = 15.0) -> WorkerProcess:
        """Until ``count`` workers logged that they are processing (the fetch loop is next)."""

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.output()}")
            return self.output().count(" processing ") >= count

        wait_for(ready, timeout, 0.02, "the worker process to start")
        return self

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker still running after {timeout}s:\n{self.output()}") from None

    def kill(self) -> None:
        """The worker, and a supervisor's children, which run in sessions of their own."""
        for pid in [*_children(self.pid), self.pid]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.fixture
def spawn_worker(redis_server, tmp_path):
    """Factory: ``spawn_worker("--concurrency", "2", redis_url=..., app=...)`` starts
    ``python -m pykue worker -A tests.workerapp.app --redis <private url>`` and returns it
    once it is processing. Every process (and its children) is killed at teardown."""
    started: list[WorkerProcess] = []

    def spawn(
        *args: str,
        redis_url: str | None = None,
        app: str = APP,
        ready: bool = True,
        promote_interval: str = "0.05",
        env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        argv = [
            sys.executable,
            "-m",
            "pykue",
            "worker",
            "-A",
            app,
            "--redis",
            redis_url or redis_server.url,
            "--promote-interval",
            promote_interval,
            *args,
        ]
        full_env = {**os.environ, "PYKUE_REDIS_URL": redis_url or redis_server.url, **(env or {})}
        worker = WorkerProcess(argv, tmp_path / f"worker-{len(started)}.log", full_env)
        started.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    yield spawn
    for worker in started:
        worker.kill()
