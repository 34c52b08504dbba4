"""Bad input to ``pykue worker``: an -A that cannot be used, invalid option values, an
unreachable Redis. Each is one line on stderr and an exit code, never a traceback; checked
both in a real subprocess and through click's CliRunner."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from pykue.cli import main
from tests.workerapp.support import pykue_cli

BAD_APPS = [
    ("nonexistent_module_xyz", "cannot import module 'nonexistent_module_xyz'"),
    ("tests.workerapp.broken", "raised RuntimeError: this module is broken on purpose"),
    ("tests.workerapp.noqueue", "defines no pykue Queue"),
    ("tests.workerapp.notasks", "the app's Queue has no tasks"),
    ("tests.workerapp.app:nope", "has no attribute 'nope'"),
    ("tests.workerapp.app:RUNS", "is a str, not a pykue Queue"),
    (":queue", "expected module[:attribute]"),
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


def test_an_unreachable_redis_is_one_line_not_a_traceback(redis_server):
    done = pykue_cli("worker", "-A", "tests.workerapp.app", "--redis", "redis://127.0.0.1:1/0",
                     redis_url=redis_server.url)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot reach Redis at redis://127.0.0.1:1/0")
    assert "Traceback" not in done.stderr


def test_pause_and_resume_commands(client, redis_server):
    runner = CliRunner()
    paused = runner.invoke(main, ["pause", "email", "--redis", redis_server.url])
    assert (paused.exit_code, paused.output) == (0, "paused email\n")
    assert client.smembers("q:pykue:paused") == {"email"}
    resumed = runner.invoke(main, ["resume", "email", "--redis", redis_server.url])
    assert (resumed.exit_code, resumed.output) == (0, "resumed email\n")
    assert client.smembers("q:pykue:paused") == set()


@pytest.mark.parametrize("extra, code, says", [
    (["--redis", "redis://127.0.0.1:1/0"], 1, "Error: cannot reach Redis"),
    (["--types", "nosuch"], 2, "--types"),
])
def test_processes_checks_the_app_and_redis_before_starting_children(redis_server, extra, code, says):
    done = pykue_cli("worker", "-A", "tests.workerapp.app", "--processes", "2", *extra, redis_url=redis_server.url)
    assert done.returncode == code and says in done.stderr
    assert "started worker process" not in done.stderr and "Traceback" not in done.stderr
