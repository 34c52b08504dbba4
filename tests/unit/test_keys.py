"""keys.py: Kue's key names (lib/kue.js, lib/queue/job.js) and the zid (createFIFO/stripFIFO) encoding."""

from __future__ import annotations

from typing import Any

import pytest

from pykue.keys import Keys, strip_zid, zid


@pytest.mark.parametrize(
    "job_id,member",
    [
        (1, "01|1"),
        (42, "02|42"),
        (123, "03|123"),
        (12345678910, "11|12345678910"),
        ("7", "01|7"),
    ],
)
def test_zid_is_kues_create_fifo(job_id: Any, member: Any) -> None:
    assert zid(job_id) == member


@pytest.mark.parametrize("member,job_id", [("01|1", 1), ("03|123", 123), ("11|12345678910", 12345678910)])
def test_strip_zid_gives_the_number(member: Any, job_id: Any) -> None:
    assert strip_zid(member) == job_id
    assert isinstance(strip_zid(member), int)


def test_zids_sort_like_ids() -> None:
    ids = [1, 2, 9, 10, 11, 99, 100, 1000, 12345]
    assert sorted(zid(i) for i in ids) == [zid(i) for i in ids]


def test_key_names_follow_kue_layout() -> None:
    k = Keys("q")
    assert (k.ids, k.types, k.jobs, k.events, k.work_time, k.settings) == (
        "q:ids",
        "q:job:types",
        "q:jobs",
        "q:events",
        "q:stats:work-time",
        "q:settings",
    )
    assert k.job(5) == "q:job:5"
    assert k.log(5) == "q:job:5:log"
    assert k.state("inactive") == "q:jobs:inactive"
    assert k.type_state("email", "failed") == "q:jobs:email:failed"
    assert k.type_state("a:b", "active") == "q:jobs:a:b:active"
    assert k.tokens("email") == "q:email:jobs"
    assert k.search_word("HLW") == "q:search:word:HLW"
    assert k.search_object(5) == "q:search:object:5"


def test_pykue_own_keys_live_under_the_prefix() -> None:
    k = Keys("app")
    for key in (
        k.workers,
        k.paused,
        k.metric("complete", 5),
        k.worker_lease("w1"),
        k.worker_record("w1"),
        k.type_stats("t"),
    ):
        assert key.startswith("app:pykue:")


def test_a_hash_tag_prefix_starts_every_key() -> None:
    k = Keys("{q}")
    names = [
        k.ids,
        k.types,
        k.jobs,
        k.events,
        k.job(1),
        k.log(1),
        k.state("active"),
        k.type_state("t", "active"),
        k.tokens("t"),
        k.search_word("X"),
        k.workers,
        k.worker_lease("w"),
        k.worker_record("w"),
        k.type_stats("t"),
    ]
    assert all(name.startswith("{q}:") for name in names)
