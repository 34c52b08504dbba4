"""pykue/transport.py: the one module that talks to Redis below redis-py's client API.

The first tests fail loudly when a redis-py release changes what the transport relies on
(setup.cfg pins the redis-py range they passed with)."""

from __future__ import annotations

import gc
import inspect

import pytest
import redis

from pykue import Queue, transport
from pykue.lua import LuaScript
from pykue.transport import lane
from tests.helpers import flush_scripts

COMMAND = ("EVALSHA", "0" * 40, 2, "{q}:a", "q:ü", 1, "ünï", 12345678901234, b"raw")


def test_redis_py_still_packs_with_hiredis_behind_the_private_name_pykue_reads():
    conn = redis.Connection()
    assert hasattr(conn, "_command_packer"), (
        "redis-py no longer has Connection._command_packer: pykue/transport.py's fast packing must follow it"
    )
    try:
        import hiredis  # noqa: F401
    except ImportError:
        pytest.skip("hiredis (the `fast` extra) is not installed")
    assert type(conn._command_packer).__name__ == "HiredisRespSerializer", (
        f"redis-py's hiredis packer is now {type(conn._command_packer).__name__}: update transport._fast_packer"
    )
    assert transport._fast_packer(conn)
    assert b"".join(transport._pack(conn, COMMAND)) == b"".join(conn.pack_command(*COMMAND))


def test_without_hiredis_redis_py_packs_the_same_bytes(monkeypatch):
    conn = redis.Connection()
    fast = b"".join(transport._pack(conn, COMMAND))
    monkeypatch.setattr(transport, "_hiredis_pack", None)
    assert b"".join(transport._pack(conn, COMMAND)) == fast == b"".join(conn.pack_command(*COMMAND))


def test_the_public_connection_api_the_transport_uses_is_there():
    pool = redis.ConnectionPool()
    assert (
        "command_name" not in inspect.signature(pool.get_connection).parameters
        or inspect.signature(pool.get_connection).parameters["command_name"].default is None
    )
    for name in ("send_packed_command", "read_response", "pack_command", "can_read", "connect", "disconnect"):
        assert callable(getattr(redis.Connection, name)), name
    assert "check_health" in inspect.signature(redis.Connection.send_packed_command).parameters


def test_the_lane_belongs_to_the_transport_not_to_redis_pys_pool(redis_server, client):
    queue = Queue(redis=redis_server.url, prefix="q")
    pool = queue.client.connection_pool
    queue.create("email").save()
    assert lane._lanes[id(pool)].conn() is not None
    assert not any(name.startswith("_pykue") for name in vars(pool))
    pool_id = id(pool)
    queue.close()
    del queue, pool
    gc.collect()
    assert pool_id not in lane._lanes  # the lane went with its pool


def test_a_blocking_pool_keeps_no_lane(redis_server, client):
    pool = redis.BlockingConnectionPool(port=redis_server.port, decode_responses=True, max_connections=4)
    queue = Queue(redis=redis.Redis(connection_pool=pool), prefix="q")
    queue.create("email").save()
    assert id(pool) not in lane._lanes
    assert queue.get_job(1).type == "email"
    queue.close()


def test_a_call_after_script_flush_loads_the_script_and_runs_once(client):
    script = LuaScript("log_job")
    client.hset("q:job:1", "type", "t")
    flush_scripts(client)
    reply = transport.call(client, script, ("q:job:1", "q:job:1:log"), ["line", 5, ""])
    assert reply == 1
    assert client.lrange("q:job:1:log", 0, -1) == ["line"]


def test_a_call_whose_fixed_part_is_packed_beforehand_sends_the_same_bytes():
    conn = redis.Connection()
    fixed = transport.Fixed(LuaScript("save_jobs"), ("{q}:", "{q}:ids", "ünï"))
    args = (1700000000000, "email", '{"to":"ü"}', -10, "")
    expected = b"".join(conn.pack_command(*fixed.head, *args))
    assert b"".join(transport._pack(conn, args, fixed)) == expected


def test_a_fixed_call_packs_the_same_bytes_without_hiredis(monkeypatch):
    conn = redis.Connection()
    fixed = transport.Fixed(LuaScript("save_jobs"), ("q:",))
    monkeypatch.setattr(transport, "_hiredis_pack", None)
    assert b"".join(transport._pack(conn, (1, "x"), fixed)) == b"".join(conn.pack_command(*fixed.head, 1, "x"))


# -- calls in flight: waiting on a reply and on a doorbell at once ----------------------------


def _held_back_call(redis_server, client, socket_timeout=None):
    """A SET sent in flight while Redis holds back writes (CLIENT PAUSE WRITE, lifted by the
    caller): its reply does not come. Returns the calls and their client (which must live:
    redis-py disconnects a collected client's pool)."""
    from pykue.transport.in_flight import CallsInFlight

    sender = redis.Redis(port=redis_server.port, socket_timeout=socket_timeout, max_connections=20)
    calls = CallsInFlight(sender)
    client.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
    calls.send(lambda conn, check_health: conn.send_command("SET", "held", "1", check_health=check_health))
    return calls, sender


def test_the_private_socket_name_the_reply_wait_reads_is_still_there(redis_server):
    conn = redis.Redis(port=redis_server.port).connection_pool.get_connection()
    assert conn._sock is not None  # pykue/transport/in_flight.py polls it beside the doorbell


def test_a_doorbell_ends_the_wait_for_a_reply_that_has_not_come(redis_server, client):
    import os
    import threading
    import time

    calls, _sender = _held_back_call(redis_server, client)
    read, write = os.pipe()
    try:
        threading.Timer(0.2, os.write, (write, b"\0")).start()
        began = time.monotonic()
        assert calls.wait_for_reply(read) is False  # the doorbell, not the reply
        assert time.monotonic() - began < 3
    finally:
        client.execute_command("CLIENT", "UNPAUSE")
        os.close(read)
        os.close(write)
    assert calls.receive() == b"OK"  # and the reply is read, once Redis runs the call
    calls.close()


def test_a_silent_connection_ends_the_wait_after_its_socket_timeout(redis_server, client):
    import os
    import time

    calls, _sender = _held_back_call(redis_server, client, socket_timeout=0.3)
    read, write = os.pipe()
    try:
        began = time.monotonic()
        assert calls.wait_for_reply(read) is True  # given up on: receive() applies the timeout
        assert 0.2 < time.monotonic() - began < 3
        with pytest.raises(redis.TimeoutError):
            calls.receive()
    finally:
        client.execute_command("CLIENT", "UNPAUSE")
        os.close(read)
        os.close(write)
        calls.close()
