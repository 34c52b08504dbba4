"""The fleet as an operator sees it, against real ``pykue worker`` processes: the worker
registry (``queue.workers()``, ``pykue workers``) and the Prometheus metrics (the dashboard's
``/metrics`` and ``pykue metrics``), read back with prometheus_client's own parser."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from pykue import __version__
from pykue.cli import main
from pykue.web import create_app
from tests.helpers import wait_for
from tests.redis_server import free_port
from tests.workerapp.support import REPO_ROOT


def only_worker(queue):
    found = queue.workers()
    return found[0] if len(found) == 1 else None


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_worker_process_registers_what_it_runs_and_leaves_nothing_when_it_stops(app_queue, spawn_worker):
    # Given a worker process serving every type of the app, running two long jobs
    worker = spawn_worker("--concurrency", "2")
    jobs = [app_queue.create("long", {"seconds": 30}).save() for _ in range(2)]
    app_queue.create("echo", {"n": 1}).save()
    # When its record is read from Redis
    info = wait_for(
        lambda: (w := only_worker(app_queue)) and w.running_count == 2 and w.processed >= 1 and w,
        10,
        message=lambda: app_queue.workers(),
    )
    # Then it says who it is and what it runs
    assert info.pid == worker.pid and info.version == __version__ and not info.stale
    assert info.types["long"] == 2 and "echo" in info.types
    assert sorted(r.id for r in info.running) == sorted(j.id for j in jobs)
    assert all(r.type == "long" and r.started_at for r in info.running)
    assert app_queue.get_job(jobs[0].id).to_json()["workerId"].startswith(info.id + ":")
    # And a paused type shows in its record
    app_queue.pause("echo")
    wait_for(lambda: (w := only_worker(app_queue)) and w.paused == ["echo"], 10, message="the pause in the record")
    # When it stops gracefully, its record goes with it
    worker.signal(signal.SIGTERM)
    worker.wait()
    assert app_queue.workers() == []
    assert not [k for k in app_queue.client.keys("q:pykue:*") if "record" in k]


def test_a_frozen_worker_is_shown_stale_then_ages_out_with_its_lease(app_queue, spawn_worker):
    # Given a worker whose lease is short (stalled timeout 3 s: a 2.4 s lease)
    worker = spawn_worker("--stalled-timeout", "3", "--promote-interval", "0.1")
    wait_for(lambda: only_worker(app_queue), 10, message="the worker's record")
    # When it is frozen (SIGSTOP), it is listed as having stopped heartbeating
    worker.signal(signal.SIGSTOP)
    try:
        stale = wait_for(lambda: (w := only_worker(app_queue)) and w.stale and w, 5, 0.05, "the worker to turn stale")
        assert stale.heartbeat_age_ms > 1000
        # And once its lease would have lapsed, it is gone from the registry
        wait_for(lambda: app_queue.workers() == [], 10, 0.1, "the record to age out")
    finally:
        worker.signal(signal.SIGCONT)
    # And a killed worker leaves nothing behind once its lease lapses
    wait_for(lambda: only_worker(app_queue), 10, message="the resumed worker to heartbeat again")
    worker.kill()
    wait_for(lambda: app_queue.workers() == [], 10, 0.1, "the killed worker's record to age out")
    assert app_queue.client.zcard(app_queue.keys.workers) <= 1  # pruned by the next heartbeat of any worker


def test_pykue_workers_prints_a_table_and_json(app_queue, spawn_worker, redis_server):
    # Given two worker processes, one serving only "echo"
    first = spawn_worker()
    second = spawn_worker("--types", "echo", "--concurrency", "5")
    wait_for(lambda: len(app_queue.workers()) == 2, 10, message="two records")
    runner = CliRunner()
    # When `pykue workers` runs, it prints one row per worker
    table = runner.invoke(main, ["workers", "--redis", redis_server.url])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split()[:3] == ["WORKER", "HOST", "PID"]
    assert {line.split()[2] for line in lines[1:]} == {str(first.pid), str(second.pid)}
    assert "echo×5" in table.output
    # And --json gives the same records to a script
    as_json = runner.invoke(main, ["workers", "--json", "--redis", redis_server.url])
    body = json.loads(as_json.output)
    assert {w["pid"] for w in body} == {first.pid, second.pid}
    fields = {"id", "host", "started_at", "types", "running", "processed", "failed", "heartbeat_at", "stale"}
    assert fields <= set(body[0])


def test_metrics_count_jobs_per_state_and_type_and_time_them(app_queue, spawn_worker, redis_server):
    # Given jobs that complete, fail for good and stay queued
    app_queue.create_many([("echo", {"n": i}) for i in range(5)])
    app_queue.create("boom", {}).save()
    app_queue.pause("slow")
    app_queue.set_rate_limit("echo", "20/s")
    app_queue.set_global_concurrency("boom", 3)
    app_queue.create_many([("slow", {"seconds": 0}) for _ in range(3)])
    worker = spawn_worker()
    wait_for(lambda: app_queue.complete_count("echo") == 5 and app_queue.failed_count("boom") == 1, 15)
    # When the dashboard's /metrics is scraped
    response = Client(create_app(app_queue)).get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    got = samples(response.get_data(as_text=True))
    # Then the gauges, counters and histograms say what happened, per type
    assert got[("pykue_jobs", (("state", "complete"), ("type", "echo")))] == 5
    assert got[("pykue_jobs", (("state", "inactive"), ("type", "slow")))] == 3
    assert got[("pykue_jobs_completed_total", (("type", "echo"),))] == 5
    assert got[("pykue_jobs_failed_total", (("type", "boom"),))] == 1
    assert got[("pykue_job_duration_seconds_count", (("type", "echo"),))] == 5
    assert got[("pykue_job_duration_seconds_bucket", (("le", "+Inf"), ("type", "echo")))] == 5
    assert got[("pykue_job_wait_seconds_count", (("type", "boom"),))] == 1
    assert got[("pykue_job_wait_seconds_sum", (("type", "echo"),))] >= 0
    assert got[("pykue_workers", ())] == 1
    assert got[("pykue_type_workers", (("type", "echo"),))] == 1
    assert got[("pykue_type_paused", (("type", "slow"),))] == 1
    assert got[("pykue_type_rate_limit_per_second", (("type", "echo"),))] == 20
    assert got[("pykue_type_concurrency_limit", (("type", "boom"),))] == 3
    assert ("pykue_type_rate_limit_per_second", (("type", "boom"),)) not in got
    # And a second, separate serving process (pykue metrics) agrees: it is all in Redis
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pykue", "metrics", "--port", str(port), "--redis", redis_server.url],
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        text = wait_for(lambda: _scrape(f"http://127.0.0.1:{port}/metrics"), 15, 0.1, "pykue metrics to serve")
        other = samples(text)
        for key in (("pykue_jobs_completed_total", (("type", "echo"),)), ("pykue_workers", ())):
            assert other[key] == got[key]
    finally:
        server.terminate()
        server.wait(10)
        worker.kill()


def test_a_cancelled_job_counts_as_failed_for_good_in_the_metrics(app_queue):
    # Given a queued job of a type that never failed
    job = app_queue.create("slow", {"seconds": 0}).save()
    # When it is cancelled
    job.cancel("not needed")
    # Then /metrics counts it as failed for good, like the failed list does
    got = samples(Client(create_app(app_queue)).get("/metrics").get_data(as_text=True))
    assert got[("pykue_jobs_failed_total", (("type", "slow"),))] == 1
    assert got[("pykue_jobs", (("state", "failed"), ("type", "slow")))] == 1


def test_a_retried_attempt_is_timed_but_counts_neither_as_completed_nor_failed(app_queue, workers):
    # Given a job that fails once and is retried at once, and one that fails all its attempts
    app_queue.tasks["retry_none"].delay(fail_times=1)
    app_queue.tasks["retry_none"].delay(fail_times=9)
    # When a worker has run them to their ends
    workers.burst()
    got = samples(Client(create_app(app_queue)).get("/metrics").get_data(as_text=True))
    # Then all six attempts are in both histograms, and each job counts once, by its end
    kind = (("type", "retry_none"),)
    assert got[("pykue_jobs_completed_total", kind)] == 1 and got[("pykue_jobs_failed_total", kind)] == 1
    assert got[("pykue_job_duration_seconds_count", kind)] == 6
    assert got[("pykue_job_wait_seconds_bucket", (("le", "+Inf"), *kind))] == 6


def _scrape(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return str(reply.read().decode())
    except OSError:
        return None


def test_metrics_histogram_buckets_match_the_lua_bounds():
    from pykue.lua import SCRIPT_DIR
    from pykue.metrics import BUCKETS_MS

    lua = (SCRIPT_DIR / "includes" / "metrics.lua").read_text()
    bounds = lua.split("METRIC_BUCKETS_MS = {", 1)[1].split("}", 1)[0]
    assert tuple(int(b) for b in bounds.split(",")) == BUCKETS_MS
    texts = lua.split("METRIC_BOUNDS = {", 1)[1].split("}", 1)[0]
    assert tuple(int(b.strip().strip('"')) for b in texts.split(",")) == BUCKETS_MS


def test_a_failed_jobs_stack_starts_at_the_task_not_in_the_worker(app_queue, spawn_worker):
    # Given a task that raises, run by a worker process
    job = app_queue.create("boom", {}).save()
    worker = spawn_worker()
    failed = wait_for(lambda: (j := app_queue.get_job(job.id)).state == "failed" and j, 15, message="the failure")
    worker.kill()
    # Then its stored stack names the task's own frame first, and none of pykue's around it
    error = failed.to_json()["error"]
    frames = [line for line in error.splitlines() if line.strip().startswith('File "')]
    assert frames and "tests/workerapp/app.py" in frames[0], error
    assert not [f for f in frames if "/pykue/" in f], error
