"""``pykue dashboard``'s command line: option ranges and empty values, the environment
variables its help names, and the warning when Redis cannot be reached at start-up. The
server is a stand-in, so no test binds a socket."""

from __future__ import annotations

import pytest
import werkzeug.serving
from click.testing import CliRunner

from pykue.connection import DEFAULT_URL
from pykue.web.command import dashboard
from tests.redis_server import free_port


@pytest.fixture
def served(monkeypatch):
    """The ports the command asked to listen on, through a server that returns at once."""
    ports: list[int] = []

    class StandIn:
        def __init__(self, host, port, app, **kwargs):
            ports.append(port)
            self.server_port = port or 40000

        def serve_forever(self):
            pass

        def server_close(self):
            pass

    monkeypatch.setattr(werkzeug.serving, "make_server", StandIn)
    return ports


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_outside_0_to_65535_is_a_usage_error(served, redis_server, port):
    result = CliRunner().invoke(dashboard, ["-r", redis_server.url, "-p", port])
    assert result.exit_code == 2, result.output
    assert "'-p' / '--port'" in result.output and "0<=x<=65535" in result.output
    assert served == []


@pytest.mark.parametrize("port", [0, 65535])
def test_ports_0_and_65535_are_accepted(served, redis_server, port):
    result = CliRunner().invoke(dashboard, ["-r", redis_server.url, "-p", str(port)])
    assert result.exit_code == 0, result.output
    assert served == [port]


@pytest.mark.parametrize("args, named", [(["-q", ""], "--prefix"), (["-r", ""], "--redis")])
def test_empty_redis_or_prefix_is_a_usage_error(served, redis_server, args, named):
    result = CliRunner().invoke(dashboard, args, env={"PYKUE_REDIS_URL": redis_server.url})
    assert result.exit_code == 2, result.output
    assert named in result.output and "must not be empty" in result.output


def test_help_names_the_environment_variables_beside_their_defaults():
    result = CliRunner().invoke(dashboard, ["-h"], env={"PYKUE_REDIS_URL": "redis://10.0.0.5:6380/2"})
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    for name in ("PYKUE_REDIS_URL", "PYKUE_PREFIX", "PYKUE_DASHBOARD_AUTH", "PYKUE_DASHBOARD_ALLOWED_HOSTS"):
        assert f"env var: {name}" in help_text
    assert f"env var: PYKUE_REDIS_URL; default: {DEFAULT_URL}" in help_text


def test_an_unreachable_redis_is_one_warning_line_at_start_up(served):
    port = free_port()
    result = CliRunner().invoke(dashboard, ["-r", f"redis://:s3cret@127.0.0.1:{port}/2"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Warning: cannot reach Redis at redis://127.0.0.1:{port}/2: ")
    assert "s3cret" not in result.output
    assert "Running on http://127.0.0.1:" in result.output


def test_a_reachable_redis_gets_no_warning(served, redis_server):
    result = CliRunner().invoke(dashboard, ["-r", redis_server.url])
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output and "Running on" in result.output
