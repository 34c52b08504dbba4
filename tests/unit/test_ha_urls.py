"""Sentinel and Cluster URLs a user can get wrong: each refused with a ConfigurationError that
names the problem, before any connection is made."""

from __future__ import annotations

import pytest

from pykue import ConfigurationError, Queue
from pykue.connection import connect
from pykue.redis_url import redact, split_durability
from pykue.topology import queue_slot


@pytest.mark.parametrize(
    ("url", "prefix", "message"),
    [
        ("redis+cluster://127.0.0.1:7000", "q", "use a prefix such as '{q}'"),
        ("redis+cluster://127.0.0.1:7000/1", "{q}", "a Redis Cluster has only db 0"),
        ("redis+cluster://127.0.0.1:7000?db=2", "{q}", "a Redis Cluster has only db 0"),
        ("redis+cluster:///", "{q}", "names no host"),
        ("redis+cluster://127.0.0.1:99999", "{q}", "has no valid port"),
        ("redis+cluster://127.0.0.1:7000?colour=red", "{q}", "unknown option(s) ['colour']"),
        ("redis+sentinel://127.0.0.1:26379", "q", "must name the Sentinel master"),
        ("redis+sentinel://127.0.0.1:26379/mymaster/x", "q", "the db ('x') is not a database number"),
        ("redis+sentinel://127.0.0.1:26379/a/0/extra", "q", "must name the Sentinel master"),
        ("redis+sentinel://h:26379/m?durable_replicas=one", "q", "durable_replicas must be a whole number"),
        ("mongodb://127.0.0.1", "q", "redis+sentinel://, redis+cluster://"),
    ],
)
def test_a_bad_sentinel_or_cluster_url_names_its_problem(url, prefix, message):
    with pytest.raises(ConfigurationError) as raised:
        connect(url, prefix)
    assert message in str(raised.value)


def test_an_untagged_prefix_on_a_cluster_is_refused_by_the_queue_too():
    with pytest.raises(ConfigurationError, match=r"use a prefix such as '\{jobs\}'"):
        Queue("redis+cluster://127.0.0.1:7000", "jobs")


def test_a_tagged_prefix_names_one_slot():
    assert queue_slot("{q}") == queue_slot("{q}.other") != queue_slot("{r}")


def test_passwords_are_masked_in_messages():
    url = "redis+sentinel://u:secret@h1:26379,h2:26379/m?sentinel_password=hush"
    assert "secret" not in redact(url) and "hush" not in redact(url)
    with pytest.raises(ConfigurationError) as raised:
        connect("redis+cluster://u:secret@h1:7000/3", "{q}")
    assert "secret" not in str(raised.value)


def test_durability_options_leave_the_url():
    assert split_durability("redis://h:1/0?durable_replicas=1&socket_timeout=2") == (
        "redis://h:1/0?socket_timeout=2",
        {"durable_replicas": 1},
    )
    assert split_durability("redis://h:1/0") == ("redis://h:1/0", {})


@pytest.mark.parametrize(
    ("option", "value"), [("durable_replicas", -1), ("durable_replicas", "1"), ("durable_timeout_ms", 0)]
)
def test_bad_durability_options_are_refused(option, value):
    with pytest.raises(ConfigurationError, match=option):
        Queue("redis://127.0.0.1:1/0", "q", **{option: value})
