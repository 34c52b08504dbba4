"""Real ``pykue worker`` processes: signals, shutdown, crash recovery, a Redis restart,
pause/resume across workers, ``--processes`` and ``--burst``.

Processes come from the ``spawn_worker`` factory (tests/integration/conftest.py), which always
passes ``--redis`` with a private server and kills every process group at teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pykue
from pykue import Queue
from tests.helpers import wait_for
from tests.redis_server import RedisServer
from tests.workerapp.app import build
from tests.workerapp.support import EventLog, pykue_cli, runs

STALLED = "Stalled: the worker running this job stopped (no heartbeat); requeued"


def state_of(client, job_id):
    return client.hget(f"q:job:{job_id}", "state")


def started(client, kind, n):
    return wait_for(lambda: len(runs(client, kind)) >= n and runs(client, kind), 10, message=f"{n} {kind} runs")


def test_sigterm_lets_running_jobs_finish_then_exits_0(app_queue, client, spawn_worker):
    # Given a worker running two jobs of 0.6 s
    worker = spawn_worker("--shutdown-timeout", "5")
    jobs = [app_queue.tasks["long"].delay(seconds=0.6) for _ in range(2)]
    started(client, "long_start", 2)
    # When it gets SIGTERM
    sent = time.monotonic()
    worker.signal(signal.SIGTERM)
    # Then it exits 0 once both finished, well within the shutdown timeout
    assert worker.wait(10) == 0
    assert time.monotonic() - sent < 4
    assert [state_of(client, j.id) for j in jobs] == ["complete", "complete"]
    assert len(runs(client, "long_end")) == 2
    assert not list(client.scan_iter("q:pykue:worker:*")) and client.hlen("q:pykue:claims") == 0


def test_jobs_still_running_at_the_shutdown_timeout_fail_with_shutdown(app_queue, client, spawn_worker):
    events = EventLog(app_queue)
    # Given a worker with a 0.3 s shutdown timeout, running a sync job with 1 attempt,
    # a sync job with 2 attempts and an async job, all far from done
    worker = spawn_worker("--shutdown-timeout", "0.3")
    last = app_queue.tasks["long"].delay(seconds=30)
    retried = app_queue.tasks["long2"].delay(seconds=30)
    coroutine = app_queue.tasks["sleep_async"].delay(seconds=30)
    started(client, "long_start", 2)
    wait_for(lambda: state_of(client, coroutine.id) == "active", 5, message="the async job to start")
    # When it gets SIGTERM
    sent = time.monotonic()
    worker.signal(signal.SIGTERM)
    # Then it exits 0 soon after the timeout
    assert worker.wait(10) == 0
    assert time.monotonic() - sent < 5
    # And each job failed with Kue's "Shutdown"; the one with attempts left is queued again
    final = client.hgetall(f"q:job:{last.id}")
    assert (final["state"], final["error"]) == ("failed", "Shutdown")
    again = client.hgetall(f"q:job:{retried.id}")
    assert (again["state"], again["error"], again["attempts"]) == ("inactive", "Shutdown", "1")
    cancelled = client.hgetall(f"q:job:{coroutine.id}")
    assert (cancelled["state"], cancelled["error"]) == ("failed", "Shutdown")
    assert app_queue.job_logs(retried.id) == ["Shutdown"]
    # With Kue's events for a cut-off job with attempts left: error, enqueue, failed attempt
    wait_for(lambda: "failed attempt" in events.of(retried.id), 5, message="failed attempt")
    assert events.of(retried.id)[-3:] == ["error", "enqueue", "failed attempt"]
    assert events.args(retried.id, "failed attempt") == [("Shutdown", 1)]
    assert "still running at shutdown" in worker.output()


def test_a_killed_workers_job_is_recovered_by_another_worker(app_queue, client, spawn_worker):
    # Given two workers with a 2 s stalled timeout, and a job (1 attempt) that hangs on its first run
    options = ("--stalled-timeout", "2")
    first = spawn_worker(*options, promote_interval="0.2")
    second = spawn_worker(*options, promote_interval="0.2")
    job = app_queue.tasks["hang_once"].delay()
    [run] = started(client, "hang_once", 1)
    # When the worker running it is killed (SIGKILL: no cleanup at all)
    victim, survivor = (first, second) if run["pid"] == first.pid else (second, first)
    victim.kill()
    # Then the other worker notices the missing heartbeat and runs it again, to completion,
    # without spending its only attempt
    try:
        assert job.wait(10) == {"first": False}
    except pykue.JobFailedError:
        raise AssertionError(
            f"{client.hgetall(f'q:job:{job.id}')}\n{app_queue.job_logs(job.id)}\n{runs(client)}\n{survivor.output()}"
        ) from None
    assert [(r["pid"], r["attempt"]) for r in runs(client, "hang_once")] == [(victim.pid, 1), (survivor.pid, 1)]
    stored = client.hgetall(f"q:job:{job.id}")
    assert (stored["state"], stored["attempts"], stored["pykue_stalls"]) == ("complete", "1", "1")
    assert app_queue.job_logs(job.id) == [STALLED]
    assert "pykue_claim" not in stored


def test_a_redis_restart_mid_run_loses_nothing(tmp_path, spawn_worker):
    # Given a Redis of our own that persists every write, and 16 queued jobs of 0.1 s whose
    # task never touches Redis (it appends its job id to a file when it ends)
    server = RedisServer(tmp_path / "redis", extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    server.start()
    done_file = tmp_path / "runs.txt"
    queue = build(server.url)
    try:
        ids = [queue.tasks["offline"].delay(seconds=0.1).id for _ in range(16)]
        worker = spawn_worker(redis_url=server.url, promote_interval="0.2", env={"WT_RUNS_FILE": str(done_file)})
        wait_for(lambda: queue.complete_count() >= 3, 10, message="3 completions")
        # When Redis stops mid-run and comes back on the same port and data
        assert queue.inactive_count() > 0
        server.stop()
        wait_for(lambda: "redis error" in worker.output(), 10, message="the worker to notice the outage")
        server.start()
        # Then the worker reconnects and finishes every job
        wait_for(lambda: queue.complete_count() == 16, 30, message="all 16 jobs complete")
        assert {queue.client.hget(f"q:job:{i}", "state") for i in ids} == {"complete"}
        # And none was lost or ran twice
        assert sorted(int(line) for line in done_file.read_text().split()) == ids
        assert queue.client.llen("q:offline:jobs") == 0 and queue.client.hlen("q:pykue:claims") == 0
    finally:
        queue.close()
        server.stop()


def paused_in(worker, n):
    return worker.output().count("paused: long") >= n


def test_pause_and_resume_reach_every_worker(app_queue, client, spawn_worker, redis_server):
    # Given two workers, with 2 slots each for "long"
    a = spawn_worker(promote_interval="0.2")
    b = spawn_worker(promote_interval="0.2")
    # When the type is paused from Python
    app_queue.pause("long")
    paused_at = time.monotonic()
    # Then both workers stop taking it within about a second
    wait_for(lambda: paused_in(a, 1) and paused_in(b, 1), 3, message="both workers to pause")
    assert time.monotonic() - paused_at < 1.2
    for _ in range(4):
        app_queue.tasks["long"].delay(seconds=0.4)
    barrier = [app_queue.tasks["echo"].delay(n=i) for i in range(2)]  # other types still run
    for job in barrier:
        job.wait(5)
    assert app_queue.inactive_count("long") == 4
    # When `pykue resume` runs, both workers take the jobs again (4 jobs fill both)
    assert pykue_cli("resume", "long", redis_url=redis_server.url).returncode == 0
    wait_for(lambda: app_queue.complete_count("long") == 4, 5, message="the 4 paused jobs")
    assert {r["pid"] for r in runs(client, "long_start")} == {a.pid, b.pid}
    # And `pykue pause` stops both again; Queue.resume restarts them
    done = pykue_cli("pause", "long", redis_url=redis_server.url)
    assert (done.returncode, done.stdout.strip()) == (0, "paused long")
    wait_for(lambda: paused_in(a, 2) and paused_in(b, 2), 3, message="both workers to pause again")
    more = [app_queue.tasks["long"].delay(seconds=0.01) for _ in range(2)]
    app_queue.tasks["echo"].delay(n=9).wait(5)
    assert app_queue.inactive_count("long") == 2
    app_queue.resume("long")
    for job in more:
        job.wait(5)
    assert client.llen("q:long:jobs") == 0


def test_processes_2_runs_two_children_and_replaces_a_killed_one(app_queue, client, spawn_worker):
    # Given a supervisor with two worker processes (2 "long" slots each)
    supervisor = spawn_worker("--processes", "2", ready=False).wait_ready(count=2)
    jobs = [app_queue.tasks["long"].delay(seconds=0.5) for _ in range(4)]
    for job in jobs:
        job.wait(10)
    children = {r["pid"] for r in runs(client, "long_start")}
    assert len(children) == 2 and supervisor.pid not in children
    # each its own worker, named after its own process (a forked child builds its own)
    worker_ids = {client.hget(f"q:job:{job.id}", "workerId") for job in jobs}  # pykue:<host>:<pid>:<id>:<type>
    assert len(worker_ids) == 2 and {int(w.split(":")[-3]) for w in worker_ids} == children
    # When one child is killed
    victim = children.pop()
    os.kill(victim, signal.SIGKILL)
    # Then the supervisor starts another, which takes jobs
    supervisor.wait_ready(count=3)
    client.delete("wt:runs")
    more = [app_queue.tasks["long"].delay(seconds=0.5) for _ in range(4)]
    for job in more:
        job.wait(10)
    now_running = {r["pid"] for r in runs(client, "long_start")}
    assert len(now_running) == 2 and victim not in now_running and children <= now_running
    # And SIGTERM stops the supervisor and its children with exit code 0
    supervisor.signal(signal.SIGTERM)
    assert supervisor.wait(15) == 0
    for pid in now_running:
        wait_for(lambda pid=pid: not _alive(pid), 5, message=f"child {pid} to exit")


def test_a_sigterm_to_the_supervisor_and_every_child_still_drains(app_queue, client, spawn_worker):
    # Given two worker processes each running a job of 1.5 s (systemd's KillMode=control-group
    # sends SIGTERM to every process of the service, and the supervisor passes the stop on too)
    supervisor = spawn_worker("--processes", "2", "--shutdown-timeout", "10", ready=False).wait_ready(count=2)
    jobs = [app_queue.tasks["long"].delay(seconds=1.5) for _ in range(4)]
    started(client, "long_start", 4)
    children = {r["pid"] for r in runs(client, "long_start")}
    assert len(children) == 2
    # When all of them get SIGTERM at once
    supervisor.signal(signal.SIGTERM)
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    # Then the running jobs finish, nothing is left active, and the supervisor exits 0
    assert supervisor.wait(20) == 0
    assert "exiting now" not in supervisor.output()
    assert [state_of(client, job.id) for job in jobs] == ["complete"] * 4


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_burst_exits_0_when_the_queue_is_drained(app_queue, client, spawn_worker):
    ids = [app_queue.tasks["slow"].delay(seconds=0.1).id for _ in range(6)]
    worker = spawn_worker("--burst", "--concurrency", "2", ready=False)
    assert worker.wait(20) == 0
    assert {state_of(client, i) for i in ids} == {"complete"}
    assert client.get("wt:peak:slow") == "2"


def test_burst_with_processes_exits_0_when_drained(app_queue, client, spawn_worker):
    ids = [app_queue.tasks["slow"].delay(seconds=0.1).id for _ in range(6)]
    worker = spawn_worker("--burst", "--processes", "2", ready=False)
    assert worker.wait(20) == 0
    assert {state_of(client, i) for i in ids} == {"complete"}


def test_prefix_option_points_the_worker_at_another_queue(redis_server, client, spawn_worker):
    # Given a job saved under prefix "other" and a worker started with --prefix other
    other = build(redis_server.url, "other")
    job = other.tasks["echo"].delay(n=1)
    spawn_worker("--prefix", "other")
    # Then that worker runs it, and its keys stay under the prefix
    assert job.wait(10) == {"n": 1}
    assert client.keys("q:*") == []
    other.close()


def test_a_second_signal_exits_at_once_with_code_1(app_queue, client, spawn_worker):
    # Given a worker with a long shutdown timeout, running a job of 30 s
    worker = spawn_worker("--shutdown-timeout", "60")
    job = app_queue.tasks["long"].delay(seconds=30)
    started(client, "long_start", 1)
    # When it gets SIGINT (Ctrl-C), then SIGTERM
    worker.signal(signal.SIGINT)
    wait_for(lambda: "shutting down" in worker.output(), 5, message="the first signal to register")
    worker.signal(signal.SIGTERM)
    # Then it exits at once with code 1, leaving the job active for stalled recovery
    assert worker.wait(5) == 1
    assert state_of(client, job.id) == "active"


def test_the_example_tasks_run_under_the_worker(redis_server, client, spawn_worker):
    # Given a job for examples/tasks.py's async "reminder" task
    producer = Queue(redis_server.url)
    job = producer.create("reminder", {"user": "tj", "text": "hi"}).save()
    # When `pykue worker -A examples.tasks --burst` runs
    worker = spawn_worker("--burst", app="examples.tasks", ready=False)
    assert worker.wait(20) == 0
    # Then the example's task ran it
    assert job.refresh().result == "reminded tj: hi"
    producer.close()


def test_the_supervisor_backs_off_restarting_a_worker_that_cannot_start(tmp_path):
    # Given children that exit at once (their app does not import)
    script = (
        "import logging; logging.basicConfig(level=logging.INFO)\n"
        "from pykue.worker.supervisor import Supervisor\n"
        "raise SystemExit(Supervisor(['worker', '-A', 'no_such_module_here'], 1, 1.0).run())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        # When it runs for a while
        delays = []
        deadline = time.monotonic() + 20
        while len(delays) < 3 and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "starting another in" in line:
                delays.append(float(line.rsplit("in ", 1)[1].rstrip("s\n")))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    # Then each restart waits twice as long as the one before
    assert delays == [0.5, 1.0, 2.0]


def _thread_cpus(pid: int) -> set[str]:
    """The Cpus_allowed_list of every thread of a process."""
    lists = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as status:
            lists.update(line.split(":", 1)[1].strip() for line in status if line.startswith("Cpus_allowed_list:"))
    return lists


def _thread_policies(pid: int) -> set[int]:
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def test_pin_cpu_keeps_a_worker_and_all_its_threads_on_one_cpu(app_queue, client, spawn_worker):
    first = sorted(os.sched_getaffinity(0))[0]
    worker = spawn_worker("--pin-cpu", "--concurrency", "3")
    jobs = [app_queue.tasks["long"].delay(seconds=0.2) for _ in range(3)]  # task threads start too
    for job in jobs:
        job.wait(10)
    assert _thread_cpus(worker.pid) == {str(first)}
    assert _thread_policies(worker.pid) == {os.SCHED_BATCH}  # no wake-up preemption among them
    assert "pinned to CPU" in worker.output()


def test_a_worker_is_pinned_by_default_and_not_with_no_pin_cpu(app_queue, client, spawn_worker):
    allowed = sorted(os.sched_getaffinity(0))
    # Given a worker started with no flag, and one with --no-pin-cpu
    pinned = spawn_worker("--concurrency", "3")
    free = spawn_worker("--concurrency", "3", "--no-pin-cpu")
    for job in [app_queue.tasks["long"].delay(seconds=0.2) for _ in range(6)]:  # task threads start too
        job.wait(10)
    # Then the first runs all its threads on one CPU it may use, under SCHED_BATCH
    (cpu,) = _thread_cpus(pinned.pid)
    assert int(cpu) in allowed
    assert _thread_policies(pinned.pid) == {os.SCHED_BATCH}
    assert "pinned to CPU" in pinned.output()
    # And the second is left where the kernel puts it
    assert _thread_policies(free.pid) == {os.SCHED_OTHER}
    assert "pinned to CPU" not in free.output()
    if len(allowed) > 1:
        assert _thread_cpus(free.pid) != {cpu}


def test_pin_cpu_with_processes_gives_each_child_its_own_cpu(app_queue, client, spawn_worker):
    allowed = sorted(os.sched_getaffinity(0))
    supervisor = spawn_worker("--processes", "2", "--pin-cpu", ready=False).wait_ready(count=2)
    children = [int(pid) for pid in open(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read().split()]
    assert len(children) == 2
    cpus = [_thread_cpus(pid) for pid in children]
    assert sorted(c for (c,) in cpus) == sorted(str(allowed[slot % len(allowed)]) for slot in range(2))
    for pid in children:
        assert _thread_policies(pid) == {os.SCHED_BATCH}
    assert _thread_cpus(supervisor.pid) != {str(allowed[0])} or len(allowed) == 1  # the supervisor is not pinned
    assert _thread_policies(supervisor.pid) == {os.SCHED_OTHER}
    # and the pinned children run jobs
    for job in [app_queue.tasks["echo"].delay(n=i) for i in range(4)]:
        job.wait(10)
