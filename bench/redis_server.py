"""One private redis-server for the whole run: a free port on 127.0.0.1, no persistence."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import redis


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 6379:  # never the user's Redis
            return port


class RedisServer:
    def __init__(self, binary: str = "redis-server") -> None:
        self.binary = shutil.which(binary) or binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="pykue-bench-redis-")
        self.proc: subprocess.Popen | None = None
        self.client: redis.Redis | None = None

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--logfile",
                "",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.client = redis.Redis(port=self.port, decode_responses=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.ping()
                return self
            except redis.ConnectionError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from exc
                time.sleep(0.05)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def version(self) -> str:
        return self.client.info("server")["redis_version"]

    def flushall(self) -> None:
        self.client.flushall()
        self.client.config_resetstat()

    def used_memory(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def settled_memory(self, timeout: float = 5.0) -> int:
        """used_memory once every other client has gone: a producer or worker that just exited
        leaves its connection's buffers (some 20 KB each) until Redis reads the close, and
        those are no job's memory."""
        deadline = time.monotonic() + timeout
        while int(self.client.info("clients")["connected_clients"]) > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.used_memory()

    def commands_processed(self) -> int:
        return int(self.client.info("stats")["total_commands_processed"])

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
