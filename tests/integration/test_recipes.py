"""The framework recipes of examples/ run as written, against the session's Redis and a real
``pykue worker -A web_tasks`` process: FastAPI enqueues and awaits from its event loop,
Django enqueues only on commit and mounts the dashboard, Flask's app factory does both."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.test import Client

from tests.helpers import off_the_test_thread, run_async, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODULES = ("web_tasks", "fastapi_app", "flask_app")


@pytest.fixture
def recipes(monkeypatch: pytest.MonkeyPatch, redis_url: str, client: redis.Redis, spawn_worker: Any) -> Iterator[Any]:
    """The examples folder importable, $PYKUE_REDIS_URL the session's Redis, a worker running
    the recipes' tasks; yields the freshly imported web_tasks module."""
    monkeypatch.setenv("PYKUE_REDIS_URL", redis_url)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in MODULES:
        sys.modules.pop(name, None)
    spawn_worker(app="web_tasks", env={"PYTHONPATH": str(EXAMPLES)})
    web_tasks = importlib.import_module("web_tasks")
    yield web_tasks
    web_tasks.queue.close()
    for name in MODULES:
        sys.modules.pop(name, None)


def test_fastapi_enqueues_and_awaits_results_from_its_event_loop(recipes: Any, client: redis.Redis) -> None:
    import httpx

    fastapi_app = importlib.import_module("fastapi_app")

    async def main() -> None:
        transport = httpx.ASGITransport(app=fastapi_app.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as web:
            answers = await asyncio.gather(
                *(web.post("/signup/wait", json={"email": f"u{i}@example.com", "name": f"U{i}"}) for i in range(20))
            )  # 20 requests awaiting their jobs at once on one loop
            assert [a.status_code for a in answers] == [200] * 20
            assert answers[7].json() == {"to": "u7@example.com", "subject": "Welcome, U7!"}
            queued = await web.post("/signup", json={"email": "tj@example.com"})
            assert queued.status_code == 202
            job_id = queued.json()["job"]
            for _ in range(200):
                state = (await web.get(f"/jobs/{job_id}")).json()
                if state["state"] == "complete":
                    break
                await asyncio.sleep(0.05)
            assert state == {
                "id": job_id,
                "state": "complete",
                "result": {"to": "tj@example.com", "subject": "Welcome, there!"},
            }
            assert (await web.get("/jobs/999")).status_code == 404
            assert (await web.post("/signup", json={"name": "no email"})).status_code == 422
            assert (await web.get("/counts")).json()["complete"] == 21
        await recipes.queue.aclose()

    run_async(main)


def test_django_enqueues_on_commit_only_and_mounts_the_dashboard(
    recipes: Any, client: redis.Redis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if "django_app" in sys.modules:
        pytest.fail("django_app configures Django's settings once per process: only this test may import it")
    monkeypatch.setenv("DJANGO_DB", str(tmp_path / "signups.sqlite3"))
    off_the_test_thread(lambda: django_signups(recipes, client))  # as a WSGI server runs Django


def django_signups(recipes: Any, client: redis.Redis) -> None:
    django_app = importlib.import_module("django_app")
    django_app.create_tables()
    web = Client(django_app.application)

    answer = web.post("/signup", data={"email": "tj@example.com", "name": "TJ"})
    assert answer.status_code == 202
    wait_for(lambda: client.zcard("q:jobs:welcome:complete") == 1, 15, message="the welcome job to run")
    job = recipes.queue.get_job(int(client.zrange("q:jobs:welcome:complete", 0, 0)[0].split("|")[1]))
    assert job.result == {"to": "tj@example.com", "subject": "Welcome, TJ!"}

    ids = client.get("q:ids")
    rolled_back = web.post("/signup", data={"email": "ana@example.com", "referral": "NOPE"})
    assert rolled_back.status_code == 400
    assert client.get("q:ids") == ids and client.zcard("q:jobs") == 1  # no job for the rolled-back signup
    with django_app.connection.cursor() as cursor:
        cursor.execute("SELECT email FROM signup")
        assert cursor.fetchall() == [("tj@example.com",)]

    assert web.post("/signup", data={"email": "bo@example.com", "referral": "FRIEND"}).status_code == 202
    assert client.get("q:ids") == str(int(ids) + 1)

    stats = web.get("/admin/queue/stats")
    assert stats.status_code == 200 and "completeCount" in stats.get_json()
    assert b"Signups" in web.get("/admin/queue/").data


def test_flask_app_factory_enqueues_and_mounts_the_dashboard(recipes: Any, client: redis.Redis) -> None:
    flask_app = importlib.import_module("flask_app")
    web = flask_app.create_app().test_client()

    answer = web.post("/signup", json={"email": "tj@example.com"})
    assert answer.status_code == 202
    job_id = answer.get_json()["job"]
    done = wait_for(lambda: (s := web.get(f"/jobs/{job_id}").get_json())["state"] == "complete" and s, 15)
    assert done["result"] == {"to": "tj@example.com", "subject": "Welcome, there!"}

    refused = web.post("/signup", json={"mail": "tj@example.com"})
    assert refused.status_code == 400 and b"mail" in refused.data
    assert client.zcard("q:jobs") == 1
    assert web.get("/jobs/99").status_code == 404
    stats = web.get("/queue/stats")
    assert stats.status_code == 200 and stats.get_json()["completeCount"] == 1
