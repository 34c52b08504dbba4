"""Periodic jobs: exactly one job per due time across the fleet, decided in Redis; a
schedule missed while no worker ran fires once; cron expressions in a timezone."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from pykue import Queue
from pykue.cron import Periodic
from pykue.exceptions import InvalidJobError
from pykue.schedules import fire_due
from tests.helpers import wait_for
from tests.workerapp.support import pykue_cli

FLOW = "tests.workerapp.flow"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_a_five_field_cron_expression_gives_the_next_run_in_its_timezone():
    assert Periodic("*/5 * * * *").next_after(ms("2026-01-01T00:03:10+00:00")) == ms("2026-01-01T00:05:00+00:00")
    assert Periodic("*/5 * * * *").next_after(ms("2026-01-01T00:05:00+00:00")) == ms("2026-01-01T00:10:00+00:00")
    paris = Periodic("0 9 * * 1-5", timezone="Europe/Paris")  # weekdays 9:00 in Paris (CEST in July)
    assert paris.next_after(ms("2026-07-03T08:00:00+00:00")) == ms("2026-07-06T07:00:00+00:00")  # Fri 10:00 -> Mon
    assert Periodic("*/3 * * * * *").next_after(ms("2026-01-01T00:00:01.500+00:00")) == ms("2026-01-01T00:00:03+00:00")


def test_every_skips_the_steps_missed_and_keeps_its_phase():
    every = Periodic(every=10)
    assert every.next_after(1_000_000, None) == 1_010_000
    assert every.next_after(1_000_000, 1_000_000) == 1_010_000
    assert every.next_after(1_095_000, 1_000_000) == 1_100_000  # nine steps missed: one run, then on the step


@pytest.mark.parametrize(
    "options",
    [{}, {"cron": "* * * * *", "every": 5}, {"cron": "61 * * * *"}, {"cron": "* *"}, {"every": 0}, {"every": "5"}]
    + [{"cron": "* * * * *", "timezone": "Mars/Olympus"}],
)
def test_a_bad_schedule_is_refused_and_nothing_is_stored(redis_server, client, options):
    q = Queue(redis_server.url, "q")
    try:
        with pytest.raises(InvalidJobError):
            q.add_schedule("report", "report", **options)
        assert q.schedules() == []
    finally:
        q.close()


def test_racing_firers_make_one_job_per_due_time_and_a_missed_schedule_fires_once(redis_server, client):
    # Given a schedule due every second, added with data, missed for 3 s (no worker ran)
    q = Queue(redis_server.url, "q")
    try:
        added = q.add_schedule("ping", "ping", every=1, data={"to": "ops"})
        assert added.next_run > datetime.now(timezone.utc)
        time.sleep(3.2)
        # When eight workers' upkeeps try to fire it at once
        made: list[int] = []
        barrier = threading.Barrier(8)

        def fire() -> None:
            barrier.wait()
            made.extend(fire_due(q.store))

        threads = [threading.Thread(target=fire) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        # Then exactly one job was made, an ordinary Kue job with the schedule's data
        assert len(made) == 1
        job = q.get_job(made[0])
        assert (job.type, job.data, job.state) == ("ping", {"to": "ops"}, "inactive")
        assert client.llen("q:ping:jobs") == 1
        # and the next run is the first step after now, not one per step missed
        (schedule,) = q.schedules()
        assert 0 < (schedule.next_run - datetime.now(timezone.utc)).total_seconds() <= 1.05
        assert fire_due(q.store) == []
    finally:
        q.close()


def test_three_worker_processes_make_one_job_per_due_time(redis_server, client, spawn_worker):
    # Given three workers of an app whose "beat" task runs every second
    q = Queue(redis_server.url, "q")
    try:
        env = {"FLOW_BEAT_EVERY": "1"}
        for _ in range(3):
            spawn_worker(app=FLOW, env=env)
        # When they run for 12 s
        wait_for(lambda: q.complete_count("beat") >= 12, 30, 0.2, "12 beats")
        # Then every due time made one job: each in a second of its own from the first one's,
        # none twice (a tick delayed by load may fire late, never twice)
        jobs = sorted(q.range_by_type("beat", "complete", 0, -1), key=lambda job: job.id)
        created = [int(job.created_at) for job in jobs]
        seconds = [round((at - created[0]) / 1000) for at in created]
        assert len(set(seconds)) == len(seconds), created
        assert seconds[-1] <= len(seconds) + 1, created  # hardly any skipped
        assert q.count("failed", "beat") == 0
        # and the CLI lists the schedule, named after the task's type
        listed = pykue_cli("schedules", redis_url=redis_server.url)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith("beat\tbeat\tevery 1s\tnext ")
    finally:
        q.close()


def test_the_same_schedule_again_keeps_its_due_time_and_a_removed_one_fires_no_more(redis_server, client):
    q = Queue(redis_server.url, "q")
    try:
        first = q.add_schedule("nightly", "report", cron="0 3 * * *", timezone="Europe/London")
        again = q.add_schedule("nightly", "report", cron="0 3 * * *", timezone="Europe/London")
        assert again.next_run == first.next_run and len(q.schedules()) == 1
        moved = q.add_schedule("nightly", "report", cron="0 4 * * *", timezone="Europe/London")
        assert moved.next_run != first.next_run
        removed = pykue_cli("schedules", "--remove", "nightly", redis_url=redis_server.url)
        assert removed.returncode == 0 and q.schedules() == []
        assert q.remove_schedule("nightly") is False
        missing = pykue_cli("schedules", "--remove", "nightly", redis_url=redis_server.url)
        assert missing.returncode == 1 and "no schedule named 'nightly'" in missing.stderr
    finally:
        q.close()


def test_schedule_and_limit_scripts_declare_only_real_keys(redis_server, client):
    from tests.integration.test_declared_keys import PREFIX, script_calls, unreal_keys

    # Given a hash-tagged queue
    q = Queue(redis_server.url, PREFIX)
    try:
        with script_calls(redis_server.url) as calls:
            # When schedules are added, fired and removed, and limits set and used by a claim
            q.add_schedule("ping", "ping", every=0.001)
            time.sleep(0.01)
            assert len(fire_due(q.store)) == 1
            q.remove_schedule("ping")
            q.set_rate_limit("ping", "5/s")
            q.set_global_concurrency("ping", 1)
            store = q.store.for_worker()
            store.renew_lease("w1", int(time.time() * 1000), 5_000)
            assert len(store.claim_jobs(int(time.time() * 1000), "w1", {"ping": 5}).claimed) == 1
        # Then every key their calls declared is one of the queue's
        assert len(calls) >= 6  # (a script's first call may show twice: NOSCRIPT, then loaded)
        assert unreal_keys(calls) == []
    finally:
        q.close()


def test_the_dashboard_api_lists_schedules_and_limits(redis_server, client):
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    from pykue.web import create_app

    q = Queue(redis_server.url, "q")
    try:
        added = q.add_schedule("digest", "email", cron="0 7 * * 1-5", data={"to": "team"}, timezone="Europe/Paris")
        q.set_rate_limit("email", "10/m")
        http = Client(create_app(q), Response)
        reply = http.get("/pykue/schedules", headers={"Accept": "application/json"})
        assert reply.status_code == 200
        assert reply.json == {
            "schedules": [
                {
                    "name": "digest",
                    "type": "email",
                    "cron": "0 7 * * 1-5",
                    "every": None,
                    "timezone": "Europe/Paris",
                    "data": {"to": "team"},
                    "nextRun": round(added.next_run.timestamp() * 1000),
                }
            ],
            "limits": {"email": {"rateLimit": "10/m", "globalConcurrency": None, "setAtRunTime": ["rate_limit"]}},
        }
    finally:
        q.close()


def test_a_worker_whose_clock_runs_ahead_cannot_fire_early(redis_server, client):
    # Given a schedule due in a minute by Redis's clock
    q = Queue(redis_server.url, "q")
    try:
        added = q.add_schedule("hourly", "report", every=60)
        due = round(added.next_run.timestamp() * 1000)
        # When a worker whose clock is a minute ahead believes it due and tries to fire it
        made = q.scripts.fire_schedule(q.client, "hourly", due, due + 60_000)
        # Then Redis's clock decides: no job, and the due time is unchanged
        assert made is None
        assert q.count("inactive", "report") == 0
        assert q.schedules()[0].next_run == added.next_run
    finally:
        q.close()


def test_a_unique_tasks_schedule_makes_no_job_while_its_last_one_still_waits(redis_server, client):
    # Given a unique task fired every second, whose first job was made and is still queued
    q = Queue(redis_server.url, "q")
    try:

        @q.task("digest", unique=True)
        def digest() -> None: ...

        q.add_schedule("digest", digest, every=1)
        first = wait_for(lambda: fire_due(q.store), 5, 0.05, "the first firing")
        # When it is due again while that job waits
        time.sleep(1.1)
        assert fire_due(q.store) == []
        # Then no second job was made, and a delay() of the same task returns the scheduled one
        assert q.count("inactive", "digest") == 1
        assert digest.delay().duplicate_of == first[0]
        # And once the job is gone, the next due time makes a job again
        q.get_job(first[0]).remove()
        time.sleep(1.1)
        assert len(fire_due(q.store)) == 1
    finally:
        q.close()
