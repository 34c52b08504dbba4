"""The systems under test, and the small interface run.py drives each of them through.

Each system is an adapter file in this folder, run in the system's own interpreter (a venv
for Python peers, node for Kue and BullMQ) through the driver ``_bench.py`` / ``_bench.js``.
Versions are pinned so two runs compare the same code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
NODE_DIR = os.path.join(BENCH, ".node")


@dataclass(frozen=True)
class Spec:
    name: str
    adapter: str  # module name (Python) or file name (Node) in this folder
    runtime: str = "python"  # "python" | "node"
    requirements: tuple[str, ...] = ()  # pip specs for the system's own venv
    own_venv: bool = True  # False: pykue, which runs in the project's .venv

    @property
    def venv(self) -> str:
        return os.path.join(BENCH, f".venv-{self.name}")

    @property
    def python(self) -> str:
        return os.path.join(self.venv, "bin", "python") if self.own_venv else sys.executable


HIREDIS = "hiredis==3.5.0"
NPM_PACKAGES = ("kue@0.11.6", "bullmq@6.7.0", "ioredis@5.11.1")

SPECS = [
    Spec("pykue", "pykue_", own_venv=False),
    Spec("kue", "kue_", runtime="node"),
    Spec("bullmq", "bullmq_", runtime="node"),
    Spec("rq", "rq_", requirements=("rq==3.0.0", "redis==8.1.0", HIREDIS)),
    Spec("celery", "celery_", requirements=("celery[redis]==5.7.0", "gevent==26.9.0", HIREDIS)),
    Spec("dramatiq", "dramatiq_", requirements=("dramatiq[redis]==2.2.1", "redis==8.1.0", HIREDIS)),
    Spec("huey", "huey_", requirements=("huey==3.5.4", "redis==8.1.0", HIREDIS)),
    Spec("arq", "arq_", requirements=("arq==0.28.0", "redis==5.3.1", HIREDIS)),
    Spec("saq", "saq_", requirements=("saq[redis]==0.26.4", "redis==7.4.1", "typing_extensions", HIREDIS)),
]
# Not in a default run (its worker is pykue's): for the enqueue workloads, bench/async_enqueue.py.
EXTRA_SPECS = [Spec("pykue-async", "pykue_async_", own_venv=False)]
BY_NAME = {spec.name: spec for spec in SPECS + EXTRA_SPECS}


@dataclass(frozen=True)
class Variant:
    """A system run again with other settings, for W2 and W2b only (the equal-settings,
    async and tuned tables). ``env`` reaches its adapter (BENCH_CONCURRENCY, BENCH_TASK_KIND,
    BENCH_WORKER_FLAGS); ``table`` says which table its row goes in."""

    system: str
    concurrency: int
    table: str = "equal"  # "equal" | "async" | "tuned"
    kind: str = "sync"
    flags: str = ""

    @property
    def name(self) -> str:
        extra = (" async" if self.kind == "async" else "") + (f" {self.flags}" if self.flags else "")
        return f"{self.system} c{self.concurrency}{extra}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "BENCH_CONCURRENCY": str(self.concurrency),
            "BENCH_TASK_KIND": self.kind,
            "BENCH_WORKER_FLAGS": self.flags,
        }


#: The concurrencies of the equal-settings table, for pykue, Kue and BullMQ alike.
EQUAL_CONCURRENCY = (1, 10, 50)
#: The concurrency each adapter runs at in the main table (its documented or advised setting).
MAIN_CONCURRENCY = {"pykue": 10, "kue": 10, "bullmq": 50}
VARIANTS = [
    *(
        Variant(name, c)
        for name in ("pykue", "kue", "bullmq")
        for c in EQUAL_CONCURRENCY
        if c != MAIN_CONCURRENCY[name]  # that cell is the main table's own W2/W2b
    ),
    Variant("pykue", 10, table="async", kind="async"),
    Variant("pykue", 20, table="tuned", flags="--pin-cpu"),
    Variant("pykue", 50, table="tuned", flags="--pin-cpu"),
]

_live: list[subprocess.Popen] = []  # every worker process group still running


def kill_all() -> None:
    """Stop every worker still running (called on errors, Ctrl-C and exit)."""
    while _live:
        _stop(_live.pop())


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


class AdapterError(RuntimeError):
    pass


@dataclass
class Workers:
    procs: list[subprocess.Popen] = field(default_factory=list)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            _stop(proc)
            if proc in _live:
                _live.remove(proc)


class System:
    """One system bound to the run's Redis URL."""

    def __init__(self, spec: Spec, url: str, log_dir: str, variant: Variant | None = None) -> None:
        self.spec = spec
        self.url = url
        self.log_dir = log_dir
        self.variant = variant
        self.info: dict = {}

    @property
    def name(self) -> str:
        return self.variant.name if self.variant else self.spec.name

    def env(self) -> dict:
        env = dict(os.environ, BENCH_REDIS_URL=self.url, PYTHONPATH=HERE, PYTHONUNBUFFERED="1")
        for key in ("BENCH_TASK", "BENCH_CONCURRENCY", "BENCH_TASK_KIND", "BENCH_WORKER_FLAGS"):
            env.pop(key, None)  # only W2n's workers get BENCH_TASK; variants their own settings
        if self.variant is not None:
            env.update(self.variant.env)
        if self.spec.runtime == "node":
            env["NODE_PATH"] = os.path.join(NODE_DIR, "node_modules")
        else:
            env["PATH"] = os.path.dirname(self.spec.python) + os.pathsep + env.get("PATH", "")
        if not self.spec.own_venv:  # pykue: the project itself must be importable
            env["PYTHONPATH"] = HERE + os.pathsep + ROOT
        return env

    def _driver(self) -> list[str]:
        if self.spec.runtime == "node":
            return ["node", os.path.join(HERE, "_bench.js"), self.spec.adapter]
        return [self.spec.python, os.path.join(HERE, "_bench.py"), self.spec.adapter]

    def call(self, action: str, timeout: float = 600.0, abort=None, **options) -> dict:
        """Run one driver action; ``abort()`` returning True (say, the worker died) stops it early."""
        argv = self._driver() + [action]
        for key, value in options.items():
            argv += [f"--{key}", str(value)]
        proc = subprocess.Popen(
            argv,
            cwd=HERE,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        _live.append(proc)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    stdout, stderr = proc.communicate(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        raise AdapterError(f"{action} timed out after {timeout:.0f}s") from None
                    if abort is not None and abort():
                        raise AdapterError(f"{action} aborted: the worker exited") from None
        finally:
            _stop(proc, grace=1.0)
            _live.remove(proc)
        lines = stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
            raise AdapterError(f"{action} failed: {tail[0][:300]}")
        return json.loads(lines[-1])

    def load_info(self) -> dict:
        self.info = self.call("info", timeout=120)
        return self.info

    def enqueue(self, n: int, bulk: bool = False) -> float:
        return self.call("enqueue_bulk" if bulk else "enqueue", n=n)["seconds"]

    def latency(self, n: int, rate: float, abort=None) -> dict:
        return self.call("latency", n=n, rate=rate, timeout=120 + n / rate * 3, abort=abort)

    def start_workers(self, processes: int, tag: str, **env: str) -> Workers:
        workers = Workers()
        env = dict(self.env(), **env)
        for k, argv in enumerate(self.info["workers"][str(processes)]):
            log = open(os.path.join(self.log_dir, f"{self.name.replace(' ', '_')}-{tag}-{k}.log"), "ab")
            proc = subprocess.Popen(
                argv,
                cwd=HERE,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            _live.append(proc)
            workers.procs.append(proc)
        return workers


def wait_until(check, timeout: float, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())
