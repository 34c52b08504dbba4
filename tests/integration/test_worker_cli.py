"""Bad input to ``pykue worker``: an -A that cannot be used, invalid option values, an
unreachable Redis. Each is one line on stderr and an exit code, never a traceback; checked
both in a real subprocess and through click's CliRunner. Also: waiting for a Redis that is
not up yet (``--wait-for-redis``), and ``pykue pause``/``resume``."""

from __future__ import annotations

import time

import pytest
import redis
from click.testing import CliRunner

from pykue import Queue
from pykue.cli import main
from tests.helpers import wait_for
from tests.redis_server import RedisServer, free_port
from tests.workerapp.app import build
from tests.workerapp.support import pykue_cli

NOT_A_PATH = "pass a module name (importable from the current directory) or module:attribute, not a file path"

BAD_APPS = [
    ("nonexistent_module_xyz", "cannot import module 'nonexistent_module_xyz'"),
    ("tests.workerapp.broken", "raised RuntimeError: this module is broken on purpose"),
    ("tests.workerapp.noqueue", "defines no pykue Queue"),
    ("tests.workerapp.notasks", "the app's Queue has no tasks"),
    ("tests.workerapp.app:nope", "has no attribute 'nope'"),
    ("tests.workerapp.app:RUNS", "is a str, not a pykue Queue"),
    (":queue", "expected module[:attribute]"),
    ("./tests/workerapp/app", NOT_A_PATH),
    ("tests/workerapp/app.py", NOT_A_PATH),
    ("tests.workerapp.app.py", NOT_A_PATH),
    (".app", NOT_A_PATH),
]

BAD_OPTIONS = [
    (["--concurrency", "0"], "--concurrency"),
    (["--concurrency", "many"], "--concurrency"),
    (["--processes", "x"], "--processes"),
    (["--processes", "0"], "--processes"),
    (["--shutdown-timeout", "-1"], "--shutdown-timeout"),
    (["--promote-interval", "0"], "--promote-interval"),
    (["--stalled-timeout", "1", "--promote-interval", "1"], "--stalled-timeout"),
    (["--loglevel", "loud"], "--loglevel"),
    (["--types", "nosuch"], "--types"),
]


@pytest.mark.parametrize("app, reason", BAD_APPS)
def test_a_bad_app_is_one_line_and_exit_2_in_a_subprocess(redis_server, app, reason):
    done = pykue_cli("worker", "-A", app, "--redis", redis_server.url, redis_url=redis_server.url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: ")
    assert reason in done.stderr and "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("app, reason", BAD_APPS)
def test_a_bad_app_is_one_line_and_exit_2_in_click(redis_server, app, reason):
    result = CliRunner().invoke(main, ["worker", "-A", app, "--redis", redis_server.url])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert reason in result.output and not isinstance(result.exception, (ImportError, RuntimeError))


@pytest.mark.parametrize("options, named", BAD_OPTIONS)
def test_invalid_option_values_are_usage_errors(redis_server, options, named):
    args = ["worker", "-A", "tests.workerapp.app", "--redis", redis_server.url, *options]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert named in result.output and "Usage:" in result.output


@pytest.mark.parametrize("options, named", BAD_OPTIONS[:3])
def test_invalid_option_values_exit_2_in_a_subprocess(redis_server, options, named):
    done = pykue_cli("worker", "-A", "tests.workerapp.app", *options, redis_url=redis_server.url)
    assert done.returncode == 2 and named in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "app, suggested",
    [
        ("./tests/workerapp/app", "-A tests.workerapp.app"),
        ("tests/workerapp/app.py:queue", "-A tests.workerapp.app:queue"),
    ],
)
def test_a_file_path_for_the_app_gets_the_module_name_to_pass(redis_server, app, suggested):
    done = pykue_cli("worker", "-A", app, redis_url=redis_server.url)
    assert done.returncode == 2
    assert done.stderr == f"Error: -A {app!r}: {NOT_A_PATH}: {suggested}\n"


@pytest.mark.parametrize(
    "options, named",
    [
        (["--shutdown-timeout", "nan"], "--shutdown-timeout"),
        (["--promote-interval", "nan"], "--promote-interval"),
        (["--stalled-timeout", "inf"], "--stalled-timeout"),
        (["--stalled-timeout", "nan"], "--stalled-timeout"),
        (["--shutdown-timeout", "1e10"], "--shutdown-timeout"),
        (["--promote-interval", "1e10", "--stalled-timeout", "1e11"], "--promote-interval"),
    ],
)
def test_seconds_must_be_finite_and_at_most_a_week(redis_server, options, named):
    done = pykue_cli("worker", "-A", "tests.workerapp.app", "--burst", *options, redis_url=redis_server.url)
    assert done.returncode == 2, done.stderr
    assert named in done.stderr and "Usage:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "options, named",
    [
        (["--prefix", ""], "--prefix"),
        (["--redis", ""], "--redis"),
        (["--types", ""], "--types"),
        (["--types", " , "], "--types"),
    ],
)
def test_empty_worker_options_are_usage_errors_not_defaults(redis_server, options, named):
    done = pykue_cli("worker", "-A", "tests.workerapp.app", "--burst", *options, redis_url=redis_server.url)
    assert done.returncode == 2, done.stderr
    assert named in done.stderr and "Usage:" in done.stderr


def test_the_worker_takes_its_prefix_from_the_environment(redis_server, client):
    # Given a job saved under prefix envp
    producer = Queue(redis_server.url, prefix="envp")
    job = producer.create("echo", {"n": 1}).save()
    # When a burst worker runs with PYKUE_PREFIX=envp and no --prefix
    done = pykue_cli(
        "worker", "-A", "tests.workerapp.app", "--burst", redis_url=redis_server.url, env={"PYKUE_PREFIX": "envp"}
    )
    # Then it processed that job
    assert done.returncode == 0, done.stderr
    assert producer.get_job(job.id).state == "complete"
    producer.close()


@pytest.mark.parametrize("command", ["pause", "resume"])
def test_help_names_the_environment_variables(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "env var: PYKUE_REDIS_URL" in result.output and "env var: PYKUE_PREFIX" in result.output


def test_pykue_prefix_is_the_default_of_a_queue_given_none(redis_server, monkeypatch):
    # Only a Queue created without a prefix reads it; --prefix alone overrides an app's own
    monkeypatch.setenv("PYKUE_PREFIX", "other")
    assert Queue(redis_server.url).prefix == "other"
    assert Queue(redis_server.url, prefix="mine").prefix == "mine"


def test_an_unreachable_redis_is_one_line_not_a_traceback(redis_server):
    done = pykue_cli(
        "worker",
        "-A",
        "tests.workerapp.app",
        "--redis",
        "redis://127.0.0.1:1/0",
        "--wait-for-redis",
        "0",
        redis_url=redis_server.url,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot reach Redis at redis://127.0.0.1:1/0")
    assert "Traceback" not in done.stderr


def test_pause_and_resume_commands(client, redis_server):
    Queue(redis_server.url, "q").create("email").save()
    runner = CliRunner()
    paused = runner.invoke(main, ["pause", "email", "--redis", redis_server.url])
    assert (paused.exit_code, paused.output) == (0, "paused email\n")
    assert client.smembers("q:pykue:paused") == {"email"}
    resumed = runner.invoke(main, ["resume", "email", "--redis", redis_server.url])
    assert (resumed.exit_code, resumed.output) == (0, "resumed email\n")
    assert client.smembers("q:pykue:paused") == set()


@pytest.mark.parametrize(
    "extra, code, says",
    [
        (["--redis", "redis://127.0.0.1:1/0", "--wait-for-redis", "0"], 1, "Error: cannot reach Redis"),
        (["--types", "nosuch"], 2, "--types"),
    ],
)
def test_processes_checks_the_app_and_redis_before_starting_children(redis_server, extra, code, says):
    done = pykue_cli("worker", "-A", "tests.workerapp.app", "--processes", "2", *extra, redis_url=redis_server.url)
    assert done.returncode == code and says in done.stderr
    assert "started worker process" not in done.stderr and "Traceback" not in done.stderr


def test_pause_takes_its_prefix_from_the_environment(client, redis_server):
    Queue(redis_server.url, "envp").create("email").save()
    result = CliRunner().invoke(main, ["pause", "email", "--redis", redis_server.url], env={"PYKUE_PREFIX": "envp"})
    assert (result.exit_code, result.output) == (0, "paused email\n")
    assert client.smembers("envp:pykue:paused") == {"email"}
    assert not client.exists("q:pykue:paused")


@pytest.mark.parametrize("command", ["pause", "resume"])
def test_pause_of_a_type_no_job_ever_had_says_so_and_still_pauses(client, redis_server, command):
    queue = Queue(redis_server.url, "q")
    for job_type in ("email", "video"):
        queue.create(job_type).save()
    client.sadd("q:pykue:paused", "emial")

    result = CliRunner().invoke(main, [command, "emial", "--redis", redis_server.url])

    assert result.exit_code == 0
    assert result.stdout == f"{command}d emial\n"
    assert result.stderr == (
        f"Warning: no job of type 'emial' was ever created in queue 'q' at {redis_server.url} "
        f"(types known: email, video); {command}d anyway, for a worker that may serve it\n"
    )
    assert client.smembers("q:pykue:paused") == ({"emial"} if command == "pause" else set())


def test_pause_of_a_known_type_prints_no_warning(client, redis_server):
    Queue(redis_server.url, "q").create("email").save()
    result = CliRunner().invoke(main, ["pause", "email", "--redis", redis_server.url])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "paused email\n", "")


def test_an_unreachable_redis_is_waited_for_then_one_error_line(redis_server):
    port = free_port()
    started = time.monotonic()
    done = pykue_cli(
        "worker",
        "-A",
        "tests.workerapp.app",
        "--redis",
        f"redis://127.0.0.1:{port}/0",
        "--wait-for-redis",
        "1.5",
        redis_url=redis_server.url,
    )
    assert done.returncode == 1 and time.monotonic() - started >= 1.5
    waiting, error = done.stderr.splitlines()
    assert f"WARNING pykue.worker: Redis at redis://127.0.0.1:{port}/0 is not reachable yet (" in waiting
    assert "Connection refused" in waiting and waiting.endswith("): waiting up to 1.5 s for it")
    assert error.startswith(f"Error: cannot reach Redis at redis://127.0.0.1:{port}/0 (waited 1.5 s): ")
    assert "Traceback" not in done.stderr


def test_a_refused_password_is_not_waited_for(redis_server, tmp_path):
    with RedisServer(tmp_path / "guarded-redis") as guarded:
        redis.Redis(port=guarded.port).config_set("requirepass", "s3cret")
        started = time.monotonic()
        done = pykue_cli(
            "worker",
            "-A",
            "tests.workerapp.app",
            "--redis",
            guarded.url.replace("//", "//:wrong@"),
            redis_url=redis_server.url,
        )
    assert done.returncode == 1 and time.monotonic() - started < 10
    assert done.stderr.startswith("Error: cannot reach Redis at ") and "waiting" not in done.stderr


def test_a_worker_started_before_redis_waits_for_it_then_works(tmp_path, spawn_worker):
    server = RedisServer(tmp_path / "late-redis")
    worker = spawn_worker("--wait-for-redis", "30", redis_url=server.url, ready=False)
    wait_for(lambda: "is not reachable yet" in worker.output(), 15, message="the worker to say it waits")
    server.start()
    queue = build(server.url)
    try:
        worker.wait_ready()
        job = queue.tasks["echo"].delay(n=1)
        wait_for(lambda: queue.get_job(job.id).state == "complete", 10, message="the job to complete")
        assert worker.output().count("is not reachable yet") == 1
        assert "Traceback" not in worker.output()
    finally:
        queue.close()
        server.stop()


@pytest.mark.parametrize(
    "args, named",
    [
        (["pause", ""], "JOB_TYPE"),
        (["resume", " "], "JOB_TYPE"),
        (["pause", "email", "--prefix", ""], "--prefix"),
        (["pause", "email", "--redis", ""], "--redis"),
    ],
)
def test_pause_refuses_empty_values(client, redis_server, args, named):
    result = CliRunner().invoke(main, args, env={"PYKUE_REDIS_URL": redis_server.url})
    assert result.exit_code == 2, result.output
    assert named in result.output and "must not be empty" in result.output
    assert client.keys("*") == []


@pytest.mark.parametrize("db", ["abc", "1/2", "-1"])
def test_pause_refuses_a_url_whose_db_is_not_a_number(client, redis_server, db):
    result = CliRunner().invoke(main, ["pause", "email", "--redis", f"{redis_server.url.rsplit('/', 1)[0]}/{db}"])
    assert result.exit_code == 1
    assert f"the db in its path ({db!r}) is not a database number" in result.output
    assert client.keys("*") == []


def test_a_worker_logs_one_line_when_redis_comes_back(tmp_path, spawn_worker):
    server = RedisServer(tmp_path / "flaky-redis").start()
    queue = build(server.url)
    try:
        worker = spawn_worker(redis_url=server.url)
        server.stop()
        wait_for(
            lambda: worker.output().count("redis error while fetching jobs") >= 2,
            15,
            message="the worker to notice the outage",
        )
        assert "reachable again" not in worker.output()
        server.start()
        wait_for(lambda: "Redis is reachable again after " in worker.output(), 15, message="the line saying so")
        job = queue.tasks["echo"].delay(n=2)
        wait_for(lambda: queue.get_job(job.id).state == "complete", 10, message="the job to complete")
        assert worker.output().count("reachable again") == 1
    finally:
        queue.close()
        server.stop()
