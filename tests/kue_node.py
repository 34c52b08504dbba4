"""Drive real Node Kue (npm ``kue@0.11.6``) from the tests, for wire-compatibility checks.

Kue is installed on first use into ``<repo>/.cache/node-kue`` (``PYKUE_NODE_KUE_DIR``
overrides it) under a file lock, so parallel test runs share one install. Without
``node``/``npm``, or when npm cannot install, the tests that use it are skipped with the
reason, except under ``CI`` where they fail: CI must not go green by skipping interop.

The scripts in ``tests/node/`` read one JSON payload line on stdin and print JSON lines on
stdout: an optional ``{"ready": true, ...}`` once they listen, then one result. Closing
stdin asks a long-running script to stop early; each one also stops itself after
``timeout_ms`` and always shuts its Kue queue down.

Use the fixture in a test module (``client`` flushes Redis first; prefix ``q`` by default)::

    from tests.kue_node import kue_node, kue_node_modules  # noqa: F401  (pytest fixtures)

    def test_something(kue_node):
        [job_id] = kue_node.create_jobs([{"type": "email", "priority": "high"}])
        assert kue_node.get_job(job_id)["json"]["priority"] == -10
        kue_node.query(counts=True, ranges=[{"kind": "state", "state": "inactive"}])

        listener = kue_node.start_events(count=1, events=["job enqueue"])   # Kue is subscribed
        ...                                                                  # publish with pykue
        listener.wait()["events"]            # [{"event": "job enqueue", "args": [id, "email"]}]

        with kue_node.start_worker(["email"], max_jobs=1) as worker:         # Kue is processing
            ...                                # jobs whose data.behaviour says what to do
            result = worker.wait()             # {"runs", "outcomes", "events"}

``kue_node.with_options(prefix=..., redis={"socket": path})`` targets another prefix or the
unix socket (Kue then sends ``SELECT null``, which Redis refuses: a Kue quirk that shows up
in ``queue_errors`` and is otherwise harmless on db 0). The payload keys of each script are
documented at the top of its ``tests/node/*.js`` file.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue as queue_module
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import IN_CI

KUE_VERSION = "0.11.6"
REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPTS_DIR = Path(__file__).resolve().parent / "node"
NPM_TIMEOUT = 300.0


class NodeKueUnavailable(RuntimeError):
    """node/npm are missing or Kue could not be installed; the message says which."""


def kue_cache_dir() -> Path:
    return Path(os.environ.get("PYKUE_NODE_KUE_DIR") or REPO_ROOT / ".cache" / "node-kue")


def installed_kue_version(cache: Path) -> str | None:
    manifest = cache / "node_modules" / "kue" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def find_node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        raise NodeKueUnavailable(f"Node Kue interop tests need {missing} on PATH (Node 20 works)")
    return node, npm


def ensure_kue(cache: Path | None = None) -> Path:
    """Install kue@0.11.6 into ``cache`` unless it is there already; return its node_modules.

    npm installs into a staging folder that is renamed into place only once ``require('kue')``
    works, so an interrupted install never looks finished. The lock file lets concurrent
    test sessions wait for one install instead of racing npm against itself.
    """
    cache = cache or kue_cache_dir()
    if installed_kue_version(cache) == KUE_VERSION:
        return cache / "node_modules"
    node, npm = find_node_tools()
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f"{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_kue_version(cache) != KUE_VERSION:
            _install(node, npm, cache)
    return cache / "node_modules"


def _install(node: str, npm: str, cache: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f"{cache.name}.staging-", dir=cache.parent))
    try:
        # A package.json of its own stops npm from walking up into some parent project.
        (staging / "package.json").write_text('{"name": "pykue-node-kue", "private": true}\n')
        _run_or_raise([npm, "install", "--no-audit", "--no-fund", f"kue@{KUE_VERSION}"], staging, "npm install")
        _run_or_raise([node, "-e", "require('kue')"], staging, "require('kue') after npm install")
        if cache.exists():
            shutil.rmtree(cache)
        staging.rename(cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run_or_raise(argv: list[str], cwd: Path, what: str) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise NodeKueUnavailable(f"{what} took over {NPM_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise NodeKueUnavailable(f"{what} failed (exit {done.returncode}): {tail}")


def skip_or_fail(reason: str) -> None:
    """Skip locally, fail under CI (dramatiq's rule): interop must really run in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


class NodeScriptError(AssertionError):
    """A harness script crashed, timed out or printed something that is not JSON."""


class NodeProcess:
    """One running harness script: its ``ready`` line, then ``result`` once it has ended."""

    def __init__(self, argv: list[str], env: dict[str, str], payload: dict[str, Any], timeout: float) -> None:
        self.name = Path(argv[-1]).name
        self.timeout = timeout
        self.ready: dict[str, Any] | None = None
        self.result: dict[str, Any] | None = None
        self._lines: queue_module.Queue[str | None] = queue_module.Queue()
        self._stderr: list[str] = []
        self.process = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._pump, args=(self.process.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self._stderr.append), daemon=True).start()
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(payload) + "\n")
        self.process.stdin.flush()

    @staticmethod
    def _pump(stream, put) -> None:
        for line in stream:
            put(line)
        put(None)

    def _next_message(self, deadline: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue_module.Empty:
            self.kill()
            raise self._error(f"no output within {self.timeout}s") from None
        if line is None:
            self.process.wait(5)
            raise self._error(f"exited (code {self.process.returncode}) without a result")
        try:
            message = json.loads(line)
        except ValueError:
            raise self._error(f"printed a non-JSON line: {line!r}") from None
        if "fatal" in message:
            raise self._error(f"crashed: {message['fatal']}")
        return message

    def _error(self, what: str) -> NodeScriptError:
        stderr = "".join(self._stderr).strip()[-3000:]
        return NodeScriptError(f"{self.name} {what}" + (f"\nstderr:\n{stderr}" if stderr else ""))

    def wait_ready(self) -> dict[str, Any]:
        """Block until the script prints its ready line (it is subscribed / processing)."""
        deadline = time.monotonic() + self.timeout
        while self.ready is None:
            message = self._next_message(deadline)
            if message.get("ready"):
                self.ready = message
            else:
                self.result = message
                raise self._error(f"ended before it was ready: {message}")
        return self.ready

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the script to end by itself (its stop condition or timeout_ms)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.result is None:
            message = self._next_message(deadline)
            if message.get("ready"):
                self.ready = message
            else:
                self.result = message
        self._close()
        return self.result

    def stop(self, timeout: float | None = None) -> dict[str, Any]:
        """Ask the script to stop now (closes stdin), then return its result."""
        if self.result is None and self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        return self.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self._close()

    def _close(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if exc_type is None:
            self.stop()
        else:
            self.kill()


class KueNode:
    """Runs the ``tests/node`` scripts against one Redis with one Kue prefix.

    ``redis`` is Kue's redis option: ``{"host": ..., "port": ...}`` or ``{"socket": path}``.
    Every method takes an optional ``prefix`` (default: the instance's) and ``timeout``
    in seconds; the Node script gets ``timeout_ms`` slightly below it, so it can still stop
    cleanly and report before Python gives up on it.
    """

    def __init__(
        self,
        node: str,
        node_modules: Path,
        redis: dict[str, Any],
        prefix: str = "q",
        processes: list[NodeProcess] | None = None,
    ) -> None:
        self.node = node
        self.node_modules = node_modules
        self.redis = redis
        self.prefix = prefix
        self.processes = [] if processes is None else processes  # shared with with_options() copies

    def with_options(self, *, prefix: str | None = None, redis: dict[str, Any] | None = None) -> KueNode:
        return KueNode(self.node, self.node_modules, redis or self.redis, prefix or self.prefix, self.processes)

    def kill_all(self) -> None:
        """Kill every script this harness started that is still running (fixture teardown)."""
        for process in self.processes:
            process.kill()
        self.processes.clear()

    def start(
        self, script: str, payload: dict[str, Any] | None = None, *, timeout: float = 30.0, prefix: str | None = None
    ) -> NodeProcess:
        """Start ``tests/node/<script>`` with the connection fields added to ``payload``."""
        body = {
            "redis": self.redis,
            "prefix": prefix or self.prefix,
            "timeout_ms": int(max(timeout - 5, timeout * 0.8) * 1000),
            **(payload or {}),
        }
        env = {**os.environ, "NODE_PATH": str(self.node_modules)}
        process = NodeProcess([self.node, str(SCRIPTS_DIR / script)], env, body, timeout)
        self.processes.append(process)
        return process

    def run(self, script: str, payload: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        """Run a script to its end and return its result."""
        process = self.start(script, payload, **options)
        try:
            return process.wait()
        finally:
            process.kill()

    def create_jobs(self, jobs: Iterable[dict[str, Any]], **options: Any) -> list[int]:
        """Save jobs through Kue's ``queue.create(...).save()``; returns their numeric ids."""
        jobs = list(jobs)
        result = self.run("kue_create.js", {"jobs": jobs}, **options)
        assert not result["errors"], f"Kue failed to save jobs: {result['errors']}"
        assert len(result["ids"]) == len(jobs)
        return result["ids"]

    def watch_jobs(self, jobs: Iterable[dict[str, Any]], **options: Any) -> NodeProcess:
        """Save jobs in Kue and keep their Job objects listening (job.on(...)) until each ends.

        ``process.ready["ids"]`` holds the ids; ``wait()`` returns ``job_events`` per id.
        """
        process = self.start("kue_create.js", {"jobs": list(jobs), "watch": True}, **options)
        process.wait_ready()
        return process

    def get_jobs(self, ids: Iterable[int | str], **options: Any) -> list[dict[str, Any]]:
        """``Job.get`` + ``Job.log`` per id: ``[{id, json, error, log, backoff, removeOnComplete}]``."""
        return self.run("kue_get.js", {"ids": list(ids)}, **options)["jobs"]

    def get_job(self, job_id: int | str, **options: Any) -> dict[str, Any]:
        [entry] = self.get_jobs([job_id], **options)
        assert entry["error"] is None, f"Kue's Job.get({job_id!r}) failed: {entry['error']}"
        return entry

    def query(self, **payload: Any) -> dict[str, Any]:
        """Anything ``kue_get.js`` answers: counts, count_types, ranges, types, state_ids, work_time."""
        options = {key: payload.pop(key) for key in ("prefix", "timeout") if key in payload}
        return self.run("kue_get.js", payload, **options)

    def start_worker(
        self,
        types: Iterable[str | dict[str, Any]],
        *,
        max_jobs: int | None = None,
        max_runs: int | None = None,
        promotion_interval: int | None = None,
        **options: Any,
    ) -> NodeProcess:
        """Start a Kue worker (``queue.process``) and wait until it is processing.

        Each job's data picks its behaviour (see ``tests/node/kue_worker.js``). ``wait()``
        returns ``{runs, outcomes, events}``.
        """
        payload: dict[str, Any] = {"types": list(types)}
        if max_jobs:
            payload["max_jobs"] = max_jobs
        if max_runs:
            payload["max_runs"] = max_runs
        if promotion_interval:
            payload["promotion"] = {"interval": promotion_interval}
        payload.update(options.pop("payload", {}))
        process = self.start("kue_worker.js", payload, **options)
        process.wait_ready()
        return process

    def start_events(
        self,
        *,
        count: int | None = None,
        events: Iterable[str] | None = None,
        ids: Iterable[int | str] | None = None,
        **options: Any,
    ) -> NodeProcess:
        """Listen like ``queue.on('job <name>', ...)``; returns once Kue is subscribed.

        ``wait()`` (after ``count`` matching events) or ``stop()`` returns ``{events: [...]}``,
        each ``{event, args, at}`` with args as the listener received them: ``(id, ...extra)``.
        """
        payload: dict[str, Any] = {}
        if count:
            payload["count"] = count
        if events is not None:
            payload["events"] = list(events)
        if ids is not None:
            payload["ids"] = list(ids)
        process = self.start("kue_events.js", payload, **options)
        process.wait_ready()
        return process


@pytest.fixture(scope="session")
def kue_node_modules() -> Path:
    """The installed Kue's node_modules; skips (or fails in CI) when Node or npm is unusable."""
    try:
        find_node_tools()
        return ensure_kue()
    except NodeKueUnavailable as exc:
        skip_or_fail(str(exc))
        raise  # unreachable: skip_or_fail raises


@pytest.fixture
def kue_node(kue_node_modules, redis_server, client) -> Iterator[KueNode]:
    """Node Kue on the session's private redis-server (TCP), prefix ``q``, Redis flushed.

    Scripts a test left running (it failed before waiting on them) are killed afterwards.
    """
    node, _ = find_node_tools()
    harness = KueNode(node, kue_node_modules, {"host": "127.0.0.1", "port": redis_server.port})
    yield harness
    harness.kill_all()
