"""With a hash-tagged prefix, every key pykue/keys.py builds lands in one Redis Cluster slot."""

from __future__ import annotations

import inspect

import pytest
from redis.crc import key_slot

from pykue.keys import STATES, Keys


def every_key(keys: Keys) -> list[str]:
    """Each attribute that names a key, and each key method called with sample arguments."""
    names = [v for v in vars(keys).values() if isinstance(v, str) and v != keys.prefix]
    names += [k for v in vars(keys).values() if isinstance(v, tuple) for k in v]
    samples = {
        "job_id": 42,
        "job_type": "email",
        "state": "failed",
        "word": "hello",
        "kind": "complete",
        "minute": 29000000,
        "now_ms": 1_700_000_000_000,
        "worker_id": "pykue:host:1:abc",
        "key": "email:user:42",
    }
    for name, method in inspect.getmembers(keys, inspect.ismethod):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(method).parameters)
        names.append(method(*[samples[p] for p in params]))
    return names


def test_every_key_method_is_sampled():
    assert len(every_key(Keys("q"))) >= 20


@pytest.mark.parametrize("prefix", ["{q}", "{my-app}.jobs", "x{tag}"])
def test_a_hash_tagged_prefix_puts_every_key_in_one_slot(prefix):
    keys = every_key(Keys(prefix))
    assert {key_slot(k.encode()) for k in keys} == {key_slot(prefix.encode())}
    assert all(k.startswith(prefix + ":") for k in keys)
    assert len(Keys(prefix).states) == len(STATES)
