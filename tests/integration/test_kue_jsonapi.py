"""Kue 0.11's own JSON API suite (test/jsonapi.js), replayed byte for byte, and its README's curl calls.

Each request is written exactly as supertest 1.1 (superagent 1.3) or curl writes it: the
same method, headers in the same order, the same body; bodiless PUTs carry
``Content-Length: 0`` and bodiless DELETEs and GETs nothing at all. The suite runs against
pykue's dashboard and, where Node is at hand, against Node Kue's own ``kue.app`` on the same
Redis, with the same assertions: Kue's status, body and media type, which the Node run
proves are Kue's. jsonapi.js picks priorities at random; here they cycle through its list.
"""

from __future__ import annotations

import json

import pytest

from pykue import Queue
from pykue.web import create_app
from tests.helpers import wait_for
from tests.kue_app import Answer, send, serve_kue_app, serve_wsgi
from tests.redis_probe import snapshot

try:
    from tests.kue_node import (
        kue_node,  # noqa: F401  (pytest fixture)
        kue_node_modules,  # noqa: F401  (pytest fixture)
    )
except ImportError:  # pragma: no cover
    pass

TYPE = "test:inserts"
PRIORITIES = [10, 0, -5, -10, -15]


@pytest.fixture(params=["pykue", pytest.param("node-kue", marks=pytest.mark.node)])
def server(request, redis_server, client, tmp_path):
    """The base URL of the dashboard under test, on a flushed Redis with search enabled as in jsonapi.js."""
    if request.param == "node-kue":
        yield from serve_kue_app(request.getfixturevalue("kue_node"), tmp_path, search=True)
        return
    queue = Queue(redis=redis_server.url, prefix="q", search=True)
    try:
        yield from serve_wsgi(create_app(queue))
    finally:
        queue.close()


def supertest(base: str, method: str, path: str, body=None) -> Answer:
    """``request(app).<method>(path)[.send(body)]`` as supertest 1.1 writes it on the wire."""
    headers = [
        ("Host", base.split("://", 1)[1]),
        ("Accept-Encoding", "gzip, deflate"),
        ("User-Agent", "node-superagent/1.3.0"),
    ]
    data = b""
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(data))), ("Connection", "close")]
    else:
        headers.append(("Connection", "close"))
        if method == "PUT":
            headers.append(("Content-Length", "0"))
    return send(base, method, path, headers, data)


def curl(base: str, method: str, path: str, body: str | None = None, content_type: str | None = None) -> Answer:
    """``curl [-X METHOD] [-H "Content-Type: ..."] [-d BODY] URL`` as curl 7/8 writes it, plus
    ``Connection: close`` so that the answer ends with the connection."""
    headers = [("Host", base.split("://", 1)[1]), ("User-Agent", "curl/7.88.1"), ("Accept", "*/*")]
    data = (body or "").encode()
    if content_type:
        headers.append(("Content-Type", content_type))
    if body is not None:
        headers.append(("Content-Length", str(len(data))))
    return send(base, method, path, [*headers, ("Connection", "close")], data)


def jobs_populate(count: int, offset: int = 0) -> list[dict]:
    return [
        {
            "type": TYPE,
            "data": {"title": i, "data": f"{TYPE}:data"},
            "options": {"priority": PRIORITIES[(i + offset) % len(PRIORITIES)]},
        }
        for i in range(count)
    ]


def is_json(answer: Answer) -> bool:
    return answer.headers.get("content-type") == "application/json; charset=utf-8"


def assert_created(entry: dict) -> int:
    assert set(entry) == {"message", "id"} and entry["message"] == "job created"
    assert isinstance(entry["id"], int) and not isinstance(entry["id"], bool)
    return entry["id"]


def test_kues_json_api_suite_as_supertest_sends_it(server, client):
    # describe('create, get, update and delete')
    answer = supertest(server, "POST", "/job", jobs_populate(1)[0])
    assert answer.status == 200 and is_json(answer)
    job_id = assert_created(answer.json)

    answer = supertest(server, "POST", "/job", jobs_populate(5, offset=1))
    assert answer.status == 200 and is_json(answer)
    assert [assert_created(entry) for entry in answer.json] == list(range(job_id + 1, job_id + 6))

    answer = supertest(server, "GET", f"/job/{job_id}")
    assert answer.status == 200
    assert (answer.json["id"], answer.json["type"], answer.json["state"]) == (str(job_id), TYPE, "inactive")

    answer = supertest(server, "PUT", f"/job/{job_id}/state/active")
    assert (answer.status, answer.json) == (200, {"message": "updated state"})

    answer = supertest(server, "GET", f"/job/{job_id}")
    assert (answer.json["id"], answer.json["type"], answer.json["state"]) == (str(job_id), TYPE, "active")

    answer = supertest(server, "DELETE", f"/job/{job_id}")
    assert (answer.status, answer.json) == (200, {"message": f"job {job_id} removed"})
    assert not client.exists(f"q:job:{job_id}")

    # describe('search')
    answer = supertest(server, "GET", "/job/search")
    assert (answer.status, answer.json) == (200, [])
    answer = supertest(server, "GET", "/job/search?q=test%3Ainserts%3Adata")
    assert answer.status == 200
    assert sorted(answer.json, key=int) == [str(n) for n in range(job_id + 1, job_id + 6)]

    # describe('range')
    answer = supertest(server, "GET", "/jobs/0..3")
    assert answer.status == 200 and len(answer.json) == 4
    answer = supertest(server, "GET", f"/jobs/{TYPE}/inactive/0..20/asc")
    assert answer.status == 200 and len(answer.json) == 5

    # describe('stats')
    answer = supertest(server, "GET", "/stats")
    assert (answer.status, answer.json) == (
        200,
        {
            "inactiveCount": 5,
            "completeCount": 0,
            "activeCount": 0,
            "failedCount": 0,
            "delayedCount": 0,
            "workTime": None,
        },
    )

    # describe('error cases')
    before = client.dbsize()
    answer = supertest(server, "POST", "/job", [])
    assert (answer.status, answer.body, answer.media_type) == (204, b"", None)
    assert client.dbsize() == before

    jobs = jobs_populate(3)
    del jobs[1]["type"]
    answer = supertest(server, "POST", "/job", jobs)
    assert answer.status == 400 and is_json(answer)
    first, second, third = answer.json
    assert assert_created(third) == assert_created(first) + 1
    assert second == {"error": "Must provide job type"}


def test_kues_readme_curl_calls(server, client):
    answer = curl(
        server,
        "POST",
        "/job",
        json.dumps(
            {
                "type": "email",
                "data": {"title": "welcome email for tj", "to": "tj@learnboost.com", "template": "welcome-email"},
                "options": {"attempts": 5, "priority": "high"},
            }
        ),
        "application/json",
    )
    assert (answer.status, answer.json) == (200, {"message": "job created", "id": 1})
    curl(server, "POST", "/job", json.dumps({"type": "email"}), "application/json")

    answer = curl(server, "DELETE", "/job/2")
    assert (answer.status, answer.json) == (200, {"message": "job 2 removed"})
    assert not client.exists("q:job:2")

    answer = curl(server, "PUT", "/job/1/state/failed", "", "application/x-www-form-urlencoded")  # curl -X PUT -d ''
    assert (answer.status, answer.json) == (200, {"message": "updated state"})
    answer = curl(server, "PUT", "/job/1/priority/-15")
    assert (answer.status, answer.json) == (200, {"message": "updated priority"})
    assert client.hget("q:job:1", "priority") == "-15"

    answer = curl(server, "GET", "/inactive/1")  # the UI's restart button, from a shell
    assert (answer.status, answer.json) == (200, {"message": "job 1 inactive"})
    wait_for(lambda: client.hget("q:job:1", "state") == "inactive", 5)  # Kue answers before it writes


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/job/007"),
        ("GET", "/job/01"),
        ("PUT", "/job/007/state/complete"),
        ("PUT", "/job/007/priority/5"),
        ("DELETE", "/job/007"),
        ("GET", "/inactive/007"),
    ],
)
def test_an_id_with_leading_zeros_names_no_job_as_in_kue(server, client, method, path):
    for _ in range(7):
        curl(server, "POST", "/job", json.dumps({"type": "email"}), "application/json")
    before = snapshot(client)

    answer = curl(server, method, path)

    job_id = path.split("/")[2]
    assert (answer.status, answer.json) == (200, {"error": f'job "{job_id}" doesnt exist'})
    assert is_json(answer)
    assert snapshot(client) == before


def test_the_log_of_an_id_with_leading_zeros_is_empty_as_in_kue(server, client):
    curl(server, "POST", "/job", json.dumps({"type": "email"}), "application/json")
    client.rpush("q:job:1:log", "a line of job 1")

    assert curl(server, "GET", "/job/1/log").json == ["a line of job 1"]
    assert curl(server, "GET", "/job/01/log").json == []
