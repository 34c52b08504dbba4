"""The examples run as written: the producer saves jobs the example worker processes, and
the mounted and secured dashboards answer."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.test import Client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def examples(monkeypatch, redis_url, client):
    monkeypatch.setenv("PYKUE_REDIS_URL", redis_url)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in ("tasks", "producer", "mounted_dashboard", "secured_dashboard"):
        sys.modules.pop(name, None)
    yield
    for name in ("tasks", "producer", "mounted_dashboard", "secured_dashboard"):
        module = sys.modules.pop(name, None)
        if module is not None and hasattr(module, "queue"):
            module.queue.close()


def test_the_producer_script_saves_jobs_of_every_example_task(examples, redis_url, client):
    out = subprocess.run(
        [sys.executable, "producer.py"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "PYKUE_REDIS_URL": redis_url},
    )
    assert out.returncode == 0, out.stderr
    assert "saved job 1 email" in out.stdout
    assert {"email", "video", "reminder"} <= set(client.smembers("q:job:types"))


def test_the_example_worker_runs_the_example_tasks(examples, client):
    from pykue.worker import Worker

    tasks = importlib.import_module("tasks")
    video = tasks.convert_video.delay(title="demo", frames=2)
    reminder = tasks.remind.delay(user="tj", text="hi")
    Worker(tasks.queue, types=["video", "reminder"], burst=True).run()
    assert video.wait(5) == {"file": "demo.mp4", "frames": 2}
    assert reminder.wait(5) == "reminded tj: hi"
    assert video.logs() == ["converting demo (2 frames)", "done: demo.mp4"]


def test_the_mounted_dashboard_serves_under_its_path(examples):
    mounted = importlib.import_module("mounted_dashboard")
    web = Client(mounted.application)
    assert b"admin/queue/" in web.get("/").data
    stats = web.get("/admin/queue/stats")
    assert stats.status_code == 200 and "inactiveCount" in json.loads(stats.data)


def test_the_secured_dashboard_refuses_strangers(examples):
    secured = importlib.import_module("secured_dashboard")
    web = Client(secured.application)
    assert web.get("/stats").status_code == 403
    assert web.get("/stats", headers={"X-Forwarded-User": "ana"}).status_code == 200


def run_demo(port: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYKUE_DEMO_PORT": port, "PYKUE_DEMO_ROUNDS": "1"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")], capture_output=True, text=True, timeout=60, env=env
    )


def test_the_demo_refuses_a_port_another_program_listens_on():
    # Given another program listening on the demo's port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # When the demo starts there
        done = run_demo(str(port))
    # Then it says so and shows no URL (the other program's)
    assert done.returncode == 1
    assert done.stderr == f"pykue demo: port {port} is in use; set PYKUE_DEMO_PORT to a free one\n"
    assert "dashboard on" not in done.stdout


@pytest.mark.parametrize("port", ["abc", "0", "65536"])
def test_the_demo_refuses_a_port_that_is_not_one(port):
    done = run_demo(port)
    assert done.returncode == 1
    assert done.stderr == f"pykue demo: PYKUE_DEMO_PORT must be a port number from 1 to 65535, not {port!r}\n"
