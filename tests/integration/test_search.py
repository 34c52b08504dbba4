"""Optional full-text search (Queue(search=True)): AND queries, search_keys, cleanup on removal."""

from __future__ import annotations

import pytest

from pykue import Queue


@pytest.fixture
def searchable(redis_server, client):
    q = Queue(redis=redis_server.url, prefix="q", search=True)
    yield q
    q.close()


def search_keys_of(client) -> list[str]:
    return sorted(client.scan_iter("q:search*"))


def test_search_finds_jobs_holding_every_word(searchable):
    a = searchable.create("email", {"title": "Welcome Tobi", "to": "tobi@example.com"}).save()
    b = searchable.create("email", {"title": "Welcome Loki", "to": "loki@example.com"}).save()
    searchable.create("email", {"title": "Goodbye"}).save()

    assert sorted(searchable.search("welcome")) == [a.id, b.id]
    assert searchable.search("welcome tobi") == [a.id]
    assert searchable.search("WELCOME, Loki!") == [b.id]
    assert searchable.search("welcome nobody") == []
    assert searchable.search("") == []
    assert searchable.search("the and of") == []  # stop words only


def test_key_names_are_indexed_as_in_kue(searchable):
    job = searchable.create("email", {"title": "x"}).save()
    assert searchable.search("title") == [job.id]


def test_more_occurrences_rank_first(searchable):
    once = searchable.create("t", {"w": "apple"}).save()
    thrice = searchable.create("t", {"w": "apple apple apple"}).save()

    assert searchable.search("apple") == [thrice.id, once.id]


def test_search_keys_restrict_what_is_indexed(searchable, client):
    job = (
        searchable.create("email", {"title": "hello", "body": "secret words", "meta": {"tag": "blue"}})
        .search_keys(["title", "meta.tag"])
        .save()
    )

    assert searchable.search("hello") == [job.id]
    assert searchable.search("blue") == [job.id]
    assert searchable.search("secret") == []
    assert searchable.search("body") == []
    assert set(client.zrange("q:search:object:1", 0, -1)) == {"hello", "blue"}


def test_index_layout_is_word_to_ids_and_id_to_words(searchable, client):
    searchable.create("t", {"w": "alpha beta alpha"}).save()

    assert client.zscore("q:search:word:alpha", "1") == 2
    assert client.zscore("q:search:word:beta", "1") == 1
    assert client.zscore("q:search:object:1", "alpha") == 2


def test_removal_leaves_no_index_entry(searchable, client):
    gone = searchable.create("t", {"w": "shared unique"}).save()
    kept = searchable.create("t", {"w": "shared"}).save()

    gone.remove()

    assert searchable.search("shared") == [kept.id]
    assert searchable.search("unique") == []
    for key in search_keys_of(client):
        assert str(gone.id) not in client.zrange(key, 0, -1), key
    assert "q:search:object:1" not in search_keys_of(client)

    kept.remove()
    assert search_keys_of(client) == []


def test_create_many_indexes_each_job(searchable):
    jobs = searchable.create_many([("t", {"w": "red"}), ("t", {"w": "green"}), ("t", {"w": "red green"})])

    assert sorted(searchable.search("red")) == [jobs[0].id, jobs[2].id]
    assert searchable.search("red green") == [jobs[2].id]


def test_search_is_off_by_default(queue, client):
    queue.create("t", {"w": "hello"}).save()

    assert search_keys_of(client) == []
    assert queue.search("hello") == []
