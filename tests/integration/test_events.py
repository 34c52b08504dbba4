"""Kue's events through pykue's listeners: queue-level `job <event>`, job-level, and Job.wait()."""

from __future__ import annotations

import json
import threading

import pytest

from pykue import JobFailedError, JobNotFoundError, Queue
from pykue.events import Waiter
from pykue.worker import Worker
from tests.helpers import wait_for
from tests.redis_probe import events  # noqa: F401


def kue_publishes(client, job_id, event, *args):
    """What a Node Kue process puts on the wire (exports.emit in Kue's lib/queue/events.js)."""
    client.publish("q:events", json.dumps({"id": job_id, "event": event, "args": [event, *args]}))


def test_queue_job_enqueue_gets_id_and_type(queue):
    seen = []
    queue.on("job enqueue", lambda *args: seen.append(args))

    first = queue.create("email").save()
    second = queue.create("sms").save()
    queue.create("later").delay(60_000).save()  # delayed: no enqueue
    third = queue.create("email").save()

    wait_for(lambda: len(seen) >= 3, 5, message="three enqueue events")
    assert seen == [(first.id, "email"), (second.id, "sms"), (third.id, "email")]


def test_queue_listeners_get_events_from_other_processes(queue, client):
    seen = []
    queue.on("job complete", lambda *args: seen.append(("complete",) + args))
    queue.on("job failed attempt", lambda *args: seen.append(("failed attempt",) + args))

    kue_publishes(client, 7, "failed attempt", "myError", 1)
    kue_publishes(client, 7, "complete", {"prop": "val"}, None)

    wait_for(lambda: len(seen) == 2, 5, message="two events")
    assert seen == [("failed attempt", 7, "myError", 1), ("complete", 7, {"prop": "val"}, None)]


def test_string_ids_from_kue_http_routes_reach_listeners_as_numbers(queue, client):
    seen = []
    queue.on("job remove", lambda *args: seen.append(args))

    kue_publishes(client, "2", "remove", "zz")

    wait_for(lambda: seen, 5, message="job remove")
    assert seen == [(2, "zz")]


def test_off_removes_a_listener(queue):
    seen = []
    listener = queue.on("job enqueue", lambda *args: seen.append(args))
    marker = []
    queue.on("job enqueue", lambda *args: marker.append(args))
    queue.off("job enqueue", listener)

    queue.create("t").save()

    wait_for(lambda: marker, 5, message="the remaining listener")
    assert seen == []


def test_a_failing_listener_is_reported_and_delivery_goes_on(queue):
    errors, seen = [], []
    queue.on("error", errors.append)
    queue.on("job enqueue", lambda *args: 1 / 0)
    queue.on("job enqueue", lambda *args: seen.append(args))

    queue.create("t").save()
    queue.create("t").save()

    wait_for(lambda: len(seen) == 2, 5, message="both events despite the failing listener")
    assert len(errors) == 2 and all(isinstance(e, ZeroDivisionError) for e in errors)


def test_malformed_messages_are_ignored(queue, client):
    seen = []
    queue.on("job enqueue", lambda *args: seen.append(args))

    client.publish("q:events", "not json")
    client.publish("q:events", json.dumps({"no": "id"}))
    queue.create("t").save()

    wait_for(lambda: seen, 5, message="the good event")
    assert seen == [(1, "t")]


def test_unknown_queue_event_names_are_refused(queue):
    with pytest.raises(ValueError):
        queue.on("complete", print)


def test_job_level_listeners_see_only_their_job(queue, client):
    mine, other = [], []
    job = queue.create("t").on("progress", lambda *a: mine.append(a)).on("complete", lambda *a: mine.append(a))
    job.save()
    queue.create("t").on("progress", lambda *a: other.append(a)).save()

    job.progress(1, 2, {"x": 1})
    kue_publishes(client, job.id, "complete", {"finalResult": 123}, None)

    wait_for(lambda: len(mine) == 2, 5, message="progress and complete")
    assert mine == [(50, {"x": 1}), ({"finalResult": 123}, None)]
    assert other == []


def test_job_level_enqueue_listener_fires_for_its_own_save(queue):
    seen = []
    for _ in range(20):  # the message races the registration of the new job's listeners
        job = queue.create("t").on("enqueue", lambda *a: seen.append(a))
        job.save()
    wait_for(lambda: len(seen) == 20, 5, message="20 job-level enqueue events")
    assert set(seen) == {("t",)}


def test_job_listener_added_after_save(queue):
    seen = []
    job = queue.create("t").save()
    job.on("progress", lambda *a: seen.append(a))

    job.progress(3, 4)

    wait_for(lambda: seen, 5, message="progress")
    assert seen == [(75, None)]


def test_events_are_delivered_per_prefix(redis_server, client):
    other = Queue(redis=redis_server.url, prefix="other")
    mine = Queue(redis=redis_server.url, prefix="q")
    seen_other, seen_mine = [], []
    try:
        other.on("job enqueue", lambda *a: seen_other.append(a))
        mine.on("job enqueue", lambda *a: seen_mine.append(a))
        mine.create("t").save()
        other.create("u").save()
        wait_for(lambda: seen_mine and seen_other, 5, message="both queues' events")
        assert seen_mine == [(1, "t")] and seen_other == [(1, "u")]
    finally:
        other.close()
        mine.close()


# -- Job.wait -------------------------------------------------------------------------------


def complete_like_a_worker(client, job_id, result):
    client.hset(f"q:job:{job_id}", "result", json.dumps(result))


def test_wait_returns_the_result_of_an_already_completed_job(queue, client):
    job = queue.create("t").save()
    job.set_state("complete")
    complete_like_a_worker(client, job.id, {"ok": 1})

    assert job.wait(timeout=5) == {"ok": 1}


def test_wait_returns_the_result_published_by_a_kue_worker(queue, client):
    job = queue.create("t").save()

    def kue_worker():
        wait_for(lambda: client.pubsub_numsub("q:events")[0][1] > 0, 5, message="the waiter's subscription")
        queue.get_job(job.id).set_state("complete")
        complete_like_a_worker(client, job.id, {"finalResult": 123})
        kue_publishes(client, job.id, "complete", {"finalResult": 123}, None)

    threading.Thread(target=kue_worker).start()
    assert job.wait(timeout=10) == {"finalResult": 123}


def test_wait_notices_an_admin_completion_that_publishes_no_event(queue, client):
    job = queue.create("t").save()
    started = threading.Event()

    def admin():
        started.wait(5)
        wait_for(lambda: client.pubsub_numsub("q:events")[0][1] > 0, 5, message="the waiter's subscription")
        complete_like_a_worker(client, job.id, "done")
        queue.get_job(job.id).set_state("complete")

    threading.Thread(target=admin).start()
    started.set()
    assert job.wait(timeout=10) == "done"


def test_wait_raises_for_a_failed_job(queue, client):
    job = queue.create("t").save()
    client.hset("q:job:1", "error", "Error: boom\n    at stack")
    job.set_state("failed")

    with pytest.raises(JobFailedError) as info:
        job.wait(timeout=5)
    assert info.value.error == "Error: boom\n    at stack"
    assert "boom" in str(info.value)


def test_wait_raises_when_a_kue_worker_reports_the_final_failure(queue, client):
    job = queue.create("t").save()

    def kue_worker():
        wait_for(lambda: client.pubsub_numsub("q:events")[0][1] > 0, 5, message="the waiter's subscription")
        client.hset("q:job:1", "error", "myError")
        queue.get_job(job.id).set_state("failed")
        kue_publishes(client, job.id, "failed", "myError", None)

    threading.Thread(target=kue_worker).start()
    with pytest.raises(JobFailedError, match="myError"):
        job.wait(timeout=10)


def test_a_failed_attempt_does_not_end_the_wait(queue, client):
    job = queue.create("t").attempts(2).save()
    kue_publishes(client, job.id, "failed attempt", "first", 1)

    with pytest.raises(TimeoutError):
        job.wait(timeout=0.5)


def test_wait_times_out(queue):
    job = queue.create("t").save()

    with pytest.raises(TimeoutError, match="did not finish"):
        job.wait(timeout=0.3)


def test_wait_on_a_removed_job_raises_not_found(queue):
    job = queue.create("t").save()
    job.remove()

    with pytest.raises(JobNotFoundError):
        job.wait(timeout=5)


def test_wait_on_a_job_removed_meanwhile(queue):
    job = queue.create("t").save()
    threading.Timer(0.2, lambda: queue.get_job(job.id).remove()).start()

    with pytest.raises(JobNotFoundError):
        job.wait(timeout=10)


def test_listeners_survive_a_redis_restart(tmp_path):
    import redis

    from tests.redis_server import RedisServer

    with RedisServer(tmp_path / "restart") as server:
        q = Queue(redis=server.url)
        seen, errors = [], []
        q.on("error", errors.append)
        q.on("job enqueue", lambda *a: seen.append(a))
        try:
            q.create("before").save()
            wait_for(lambda: seen, 5, message="the first enqueue")

            server.restart()  # same port, empty data: the subscriber connection is cut
            probe = redis.Redis(port=server.port)
            wait_for(lambda: probe.pubsub_numsub("q:events")[0][1] > 0, 10, message="re-subscription")
            q.create("after").save()

            wait_for(lambda: len(seen) == 2, 5, message="an enqueue after the restart")
            assert seen == [(1, "before"), (1, "after")]
            assert errors and all(isinstance(e, redis.ConnectionError) for e in errors)
        finally:
            q.close()


def test_a_refused_subscription_is_reported_and_retried(tmp_path):
    import redis

    from tests.redis_server import RedisServer

    with RedisServer(tmp_path / "acl") as server:
        admin = redis.Redis(port=server.port, decode_responses=True)
        admin.execute_command("ACL", "SETUSER", "nosub", "on", ">pw", "~*", "&elsewhere", "+@all")
        q = Queue(redis={"port": server.port, "username": "nosub", "password": "pw"})
        errors = []
        q.on("error", errors.append)
        try:
            with pytest.raises(TimeoutError):
                q.events.ensure_subscribed(timeout=0.5)
            wait_for(lambda: errors, 5, message="the NOPERM error")
            assert "NOPERM" in str(errors[0]) or "permission" in str(errors[0]).lower()

            admin.execute_command("ACL", "SETUSER", "nosub", "allchannels")  # fixed by the admin
            q.events.ensure_subscribed(timeout=10)  # the retrying subscriber gets through
        finally:
            q.close()


def test_a_kue_workers_passing_failed_state_is_not_taken_for_the_end(queue, client):
    # Kue's failedAttempt shows state `failed` (attempts not yet counted) before the retry
    job = queue.create("t").attempts(3).save()
    poll = job._outcome_poller(Waiter())
    client.hset("q:job:1", mapping={"state": "failed", "failed_at": "1000", "error": "first"})
    assert poll() is None  # first sighting: a retry may follow
    client.hset("q:job:1", mapping={"state": "inactive", "attempts": "1"})
    assert poll() is None
    client.hset("q:job:1", mapping={"state": "failed", "failed_at": "2000", "error": "second"})
    assert poll() is None
    assert poll() == ("failed", "second")  # still failed, same failure: final after all
    client.hset("q:job:1", mapping={"failed_at": "3000", "attempts": "3"})
    assert job._outcome_poller(Waiter())() == ("failed", "second")  # no attempts left: final at once


def test_listeners_follow_the_queue_to_another_prefix(redis_server, client):
    # Given an app's queue with listeners, pointed elsewhere before its worker runs (--prefix)
    app = Queue(redis_server.url, prefix="app")
    seen = []
    app.on("job complete", lambda job_id, result: seen.append((job_id, result)))
    app.task("echo")(lambda n: {"n": n})
    app.configure(prefix="other")
    # When a job of the other prefix completes
    job = app.tasks["echo"].delay(n=5)
    Worker(app, burst=True).run()
    # Then the listener registered before the move heard it
    wait_for(lambda: seen, 5, message="the complete event")
    assert seen == [(job.id, {"n": 5})] and client.exists(f"other:job:{job.id}")
    app.close()


@pytest.mark.parametrize("how", ["job", "queue"])
def test_events_false_keeps_a_jobs_own_listeners_quiet_as_in_kue(redis_server, client, how):
    # Given a job whose events are off (job.events(False), or Queue(job_events=False))
    app = Queue(redis_server.url, prefix="q", job_events=how != "queue")
    app.task("echo")(lambda n: {"n": n})
    own, queue_level = [], []
    app.on("job complete", lambda job_id, result: queue_level.append(job_id))
    job = app.create("echo", {"n": 1})
    if how == "job":
        job.events(False)
    job.on("complete", lambda result: own.append(result)).save()
    # When it completes
    Worker(app, burst=True).run()
    # Then queue-level listeners and wait() hear it; the job's own listeners do not
    assert job.wait(5) == {"n": 1}
    wait_for(lambda: queue_level == [job.id], 5, message="the queue-level complete event")
    assert own == [] and job.events() is False
    app.close()
