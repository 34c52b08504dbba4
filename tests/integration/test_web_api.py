"""Kue's JSON API served by pykue's dashboard, route by route, against a real redis-server.

Kue's own shapes come from Kue's lib/http/routes/json.js and, where Node is at hand, from
Node Kue itself reading the same Redis (``tests/kue_node.py``).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.parse

import pytest
from click.testing import CliRunner
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client
from werkzeug.wrappers import Response

from pykue import PRIORITIES, Queue
from pykue.web import BasicAuth, create_app
from pykue.web.app import UI_DIR
from pykue.web.command import dashboard
from tests.helpers import KUE_TO_JSON_ORDER, minute_with_room
from tests.kue_app import kue_http, serve_kue_app

try:  # Node Kue interop helpers (another module of the suite); absent means no interop tests
    from tests.kue_node import (
        kue_node,  # noqa: F401  (pytest fixture)
        kue_node_modules,  # noqa: F401  (pytest fixture)
    )

    HAVE_KUE_NODE = True
except ImportError:  # pragma: no cover
    HAVE_KUE_NODE = False

JSON = {"Content-Type": "application/json"}
AJAX = {"X-Requested-With": "XMLHttpRequest"}
#: What a page on a DNS-rebound name sends: to the browser it is same-origin with itself.
REBOUND = {"Host": "evil.example:3000", "Origin": "http://evil.example:3000", "Sec-Fetch-Site": "same-origin"}
LOOPBACK = ["localhost", "127.0.0.1", "[::1]"]


@pytest.fixture
def app(queue):
    return create_app(queue)


@pytest.fixture
def http(app):
    return Client(app, Response)


def make_jobs(queue, count, type="email", **data):
    return [queue.create(type, {"title": f"job {i}", **data}).save() for i in range(count)]


def snapshot(client):
    """Every key and its content: proves that a refused request changed nothing."""
    out = {}
    for key in sorted(client.keys("*")):
        kind = client.type(key)
        if kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            out[key] = client.lrange(key, 0, -1)
        elif kind == "set":
            out[key] = sorted(client.smembers(key))
        else:
            out[key] = client.get(key)
    return out


def in_order(keys):
    positions = [KUE_TO_JSON_ORDER.index(k) for k in keys]
    return positions == sorted(positions)


# --- GET /stats ----------------------------------------------------------------------------


def test_stats_has_kues_keys_in_kues_order(queue, http):
    jobs = make_jobs(queue, 3)
    jobs[0].set_state("active")
    jobs[1].set_state("failed")
    queue.create("email").delay(60_000).save()

    response = http.get("/stats")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert list(response.json) == [
        "inactiveCount",
        "completeCount",
        "activeCount",
        "failedCount",
        "delayedCount",
        "workTime",
    ]
    assert response.json == {
        "inactiveCount": 1,
        "completeCount": 0,
        "activeCount": 1,
        "failedCount": 1,
        "delayedCount": 1,
        "workTime": None,
    }


def test_stats_work_time_is_the_stored_integer(queue, client, http):
    client.set(queue.keys.work_time, 4200)
    assert http.get("/stats").json["workTime"] == 4200


def strict_json(response):
    """The body as JSON.parse reads it: NaN and Infinity tokens are a syntax error there."""

    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


# --- GET /job/:id and its log ------------------------------------------------------------------


def test_job_by_id_sends_the_id_as_a_string_in_kues_key_order(queue, http):
    job = queue.create("email", {"title": "welcome tj"}).priority("high").attempts(3).ttl(5000).save()

    body = http.get(f"/job/{job.id}").json

    assert body["id"] == str(job.id)
    assert body["type"] == "email" and body["data"] == {"title": "welcome tj"}
    assert body["priority"] == -10 and body["progress"] == 0 and body["state"] == "inactive"
    assert body["ttl"] == "5000" and isinstance(body["created_at"], str)
    assert body["attempts"] == {"made": 0, "remaining": 3, "max": 3}
    assert in_order(list(body))
    assert body == {**job.to_json(), "id": str(job.id)}


def test_non_finite_numbers_stored_in_redis_are_sent_as_null(queue, client, http):
    job = queue.create("email", {"title": "x"}).save()
    client.hset(
        queue.keys.job(job.id),
        mapping={
            "data": '{"a": NaN, "b": [Infinity, 1.5]}',
            "result": "-Infinity",
            "progress_data": '{"eta": Infinity}',
            "priority": "Infinity",
        },
    )

    for path in (f"/job/{job.id}", "/jobs/0..-1", "/jobs/inactive/0..10/desc", f"/pykue/jobs?ids={job.id}"):
        body = strict_json(http.get(path))
        found = body if isinstance(body, dict) else body[0]
        assert found["data"] == {"a": None, "b": [None, 1.5]}, path
        assert found["result"] is None and found["progress_data"] == {"eta": None} and found["priority"] is None


def test_a_lone_surrogate_in_stored_json_is_escaped_as_json_stringify_does(queue, client, http):
    job = queue.create("email", {"title": "x"}).save()
    client.hset(queue.keys.job(job.id), "data", '{"name": "\\ud800 é"}')

    response = http.get(f"/job/{job.id}")

    assert response.status_code == 200
    assert '"\\ud800 \\u00e9"' in response.get_data(as_text=True)
    assert json.loads(response.get_data(as_text=True))["data"] == {"name": "\ud800 é"}


def test_unknown_job_is_kues_200_error(http):
    for path in ("/job/999", "/job/abc", "/job/0"):
        response = http.get(path)
        assert response.status_code == 200
        assert response.json == {"error": f'job "{path.rsplit("/", 1)[1]}" doesnt exist'}


#: Ids Kue could never find: str.isdigit() is true for the first three, and int() reads the rest;
#: Kue never stores an id with leading zeros (it reads ``q:job:007``, not ``q:job:7``).
NEVER_STORED_IDS = [
    "%C2%B2",
    "%E2%91%A0",
    pytest.param("9" * 5000, id="5000-digits"),
    "%D9%A1",
    "%EF%BC%91",
    "0_1",
    "007",
    "01",
]


@pytest.mark.parametrize("job_id", NEVER_STORED_IDS)
def test_ids_kue_never_stores_do_not_exist_like_any_other_bad_id(queue, client, http, job_id):
    make_jobs(queue, 10)
    queue.get_job(1).log("the log of job 1")
    before = snapshot(client)
    shown = urllib.parse.unquote(job_id)
    missing = {"error": f'job "{shown}" doesnt exist'}

    assert http.get(f"/job/{job_id}").json == missing
    assert http.put(f"/job/{job_id}/state/inactive", headers=JSON).json == missing
    assert http.put(f"/job/{job_id}/priority/1", headers=JSON).json == missing
    assert http.delete(f"/job/{job_id}", headers=JSON).json == missing
    assert http.get(f"/inactive/{job_id}", headers=AJAX).json == missing
    assert http.get(f"/job/{job_id}/log").json == []
    assert http.get(f"/pykue/jobs?ids={job_id},2").json == [queue.get_job(2).to_json()]
    assert snapshot(client) == before


def test_job_log_lists_lines_and_is_empty_for_unknown_ids(queue, http):
    job = queue.create("email").save()
    job.log("first line")
    job.log("sent %d of %d", 3, 10)

    assert http.get(f"/job/{job.id}/log").json == ["first line", "sent 3 of 10"]
    assert http.get("/job/999/log").json == []
    assert http.get("/job/nope/log").json == []
    assert http.get(f"/job/%20{job.id}/log").json == []  # Kue reads the key "job: 1:log"


# --- the range routes ------------------------------------------------------------------------------


def test_jobs_range_is_inclusive_with_numeric_ids(queue, http):
    make_jobs(queue, 6)

    body = http.get("/jobs/0..3").json

    assert [job["id"] for job in body] == [1, 2, 3, 4]
    assert all(in_order(list(job)) for job in body)


def test_range_order_desc_reverses_and_any_other_word_means_ascending(queue, http):
    make_jobs(queue, 4)
    assert [j["id"] for j in http.get("/jobs/0..10/desc").json] == [4, 3, 2, 1]
    assert [j["id"] for j in http.get("/jobs/0..10/asc").json] == [1, 2, 3, 4]
    assert [j["id"] for j in http.get("/jobs/0..10/whatever").json] == [1, 2, 3, 4]


def test_range_picks_ranks_by_priority_then_sorts_by_id(queue, http):
    low = queue.create("email").priority("low").save()
    high = queue.create("email").priority("critical").save()
    normal = queue.create("email").save()

    assert [j["id"] for j in http.get("/jobs/inactive/0..1").json] == [high.id, normal.id]
    assert [j["id"] for j in http.get("/jobs/inactive/2..2").json] == [low.id]


def test_state_range_covers_every_state_including_delayed(queue, http):
    jobs = make_jobs(queue, 5)
    for job, state in zip(jobs, ["active", "complete", "failed", "delayed"]):
        job.set_state(state)
    for job, state in zip(jobs, ["active", "complete", "failed", "delayed", "inactive"]):
        body = http.get(f"/jobs/{state}/0..10").json
        assert [j["id"] for j in body] == [job.id], state
        assert body[0]["state"] == state


def test_type_range_and_type_stats_with_a_colon_in_the_type(queue, http):
    mine = make_jobs(queue, 3, type="test:inserts")
    make_jobs(queue, 2, type="other")

    body = http.get("/jobs/test:inserts/inactive/0..20/asc").json

    assert [j["id"] for j in body] == [job.id for job in mine]
    assert http.get("/jobs/test:inserts/inactive/stats").json == {"count": 3}
    assert http.get("/jobs/other/inactive/stats").json == {"count": 2}
    assert http.get("/jobs/other/failed/stats").json == {"count": 0}


@pytest.mark.parametrize(
    "path, span",
    [
        ("/jobs/x..3", "x..3"),
        ("/jobs/a..b", "a..b"),
        ("/jobs/inactive/0..y", "0..y"),
        ("/jobs/email/inactive/a..b/desc", "a..b"),
        ("/jobs/%D9%A1..%D9%A3", "\u0661..\u0663"),
        ("/jobs/0..%C2%B2", "0..\u00b2"),
        (f"/jobs/0..{2**63}", f"0..{2**63}"),
        (f"/jobs/{-(2**63) - 1}..0", f"{-(2**63) - 1}..0"),
    ],
)
def test_unparsable_range_bounds_are_a_400_naming_the_range(queue, http, path, span):
    make_jobs(queue, 2)

    response = http.get(path)

    assert response.status_code == 400
    assert response.json["error"].startswith(f"invalid range {span!r}: expected from..to, two integers")


def test_a_range_of_thousands_of_digits_is_a_400_not_a_500(queue, http):
    response = http.get("/jobs/0.." + "9" * 5000)
    assert response.status_code == 400
    assert response.json["error"].startswith("invalid range '0..999") and "(5003 characters)" in response.json["error"]


def test_valid_range_bounds_are_read_as_kue_reads_them(queue, http):
    make_jobs(queue, 2)
    assert len(http.get("/jobs/0..1abc").json) == 2  # parseInt reads leading digits
    assert len(http.get("/jobs/%201..+5").json) == 1
    assert len(http.get(f"/jobs/{-(2**63)}..{2**63 - 1}").json) == 2
    assert http.get("/jobs/5..9").json == []


def test_invalid_state_in_a_read_route_is_refused_with_an_error_body(queue, client, http):
    make_jobs(queue, 1)
    before = snapshot(client)
    for path in ("/jobs/nope/0..10", "/jobs/email/nope/0..10", "/jobs/email/nope/stats"):
        response = http.get(path)
        assert response.status_code == 200
        assert "invalid state 'nope'" in response.json["error"]
    assert snapshot(client) == before


def test_a_trailing_slash_is_ignored_as_express_does(queue, http):
    make_jobs(queue, 2)
    assert http.get("/stats/").json["inactiveCount"] == 2
    assert len(http.get("/jobs/inactive/0..10/").json) == 2
    assert http.get("/failed/").status_code == 200


def test_job_types(queue, http):
    make_jobs(queue, 1, type="video")
    make_jobs(queue, 1, type="email")
    assert sorted(http.get("/job/types").json) == ["email", "video"]


# --- Accept header ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stats", "/job/1", "/jobs/0..10", "/job/types", "/job/1/log"])
def test_json_routes_404_when_the_client_refuses_json(queue, http, path):
    make_jobs(queue, 1)
    refused = http.get(path, headers={"Accept": "text/html"})
    assert refused.status_code == 404
    assert refused.mimetype == "text/html"
    assert f"<pre>Cannot GET {path}</pre>" in refused.get_data(as_text=True)
    for accept in ("*/*", "application/json", "text/html, application/json;q=0.5", None):
        headers = {"Accept": accept} if accept else {}
        assert http.get(path, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("POST", "/stats", "GET, HEAD"),
        ("DELETE", "/jobs/0..10", "GET, HEAD"),
        ("GET", "/job", "POST"),
        ("PUT", "/job/1", "DELETE, GET, HEAD"),
        ("POST", "/job/1/state/active", "PUT"),
        ("PUT", "/pykue/metrics", "GET, HEAD"),
        ("POST", "/inactive/1", "GET, HEAD"),
        ("POST", "/stats/", "GET, HEAD"),
    ],
)
def test_a_wrong_method_on_an_api_route_is_a_json_405_naming_the_allowed_ones(
    queue, client, http, method, path, allowed
):
    make_jobs(queue, 1)
    before = snapshot(client)

    response = http.open(path, method=method, headers=JSON)

    assert response.status_code == 405 and response.mimetype == "application/json"
    assert response.json == {"error": f"{method} is not allowed on {path}; allowed: {allowed}"}
    assert response.headers["Allow"] == allowed
    assert snapshot(client) == before


@pytest.mark.parametrize("path", ["/", "/failed", "/inactive"])
def test_a_wrong_method_on_a_page_keeps_an_html_405(http, path):
    response = http.post(path, headers=JSON)
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}


@pytest.mark.parametrize("path", ["/job/1/nope", "/jobs/inactive", "/pykue/nope", "/stats/more", "/inactive/1/x"])
def test_unknown_api_paths_are_a_json_404_for_clients_that_accept_json(http, path):
    for accept in (None, "*/*", "application/json"):
        response = http.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 404 and response.json == {"error": f"Cannot GET {path}"}, accept
    refused = http.get(path, headers={"Accept": "text/html"})
    assert refused.status_code == 404 and f"<pre>Cannot GET {path}</pre>" in refused.get_data(as_text=True)


def test_other_unknown_paths_keep_kues_html_404_unless_the_client_prefers_json(http):
    for accept in (None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"):
        response = http.get("/nope", headers={"Accept": accept} if accept else {})
        assert response.status_code == 404 and response.mimetype == "text/html", accept
    wanted = http.get("/nope", headers={"Accept": "application/json"})
    assert wanted.status_code == 404 and wanted.json == {"error": "Cannot GET /nope"}


# --- PUT /job/:id/state/:state and /priority/:priority ----------------------------------------------


def test_put_state_moves_the_job_in_every_index(queue, client, http):
    job = queue.create("email").save()

    response = http.put(f"/job/{job.id}/state/active", headers=JSON)

    assert response.status_code == 200 and response.json == {"message": "updated state"}
    assert http.get(f"/job/{job.id}").json["state"] == "active"
    member = f"{len(str(job.id)):02d}|{job.id}"
    assert client.zscore(queue.keys.state("active"), member) is not None
    assert client.zscore(queue.keys.state("inactive"), member) is None
    assert client.zscore(queue.keys.type_state("email", "active"), member) is not None


@pytest.mark.parametrize("state", ["foo", "Active", "inactive2"])
def test_put_invalid_state_is_refused_and_nothing_changes(queue, client, http, state):
    job = queue.create("email").save()
    before = snapshot(client)

    response = http.put(f"/job/{job.id}/state/{state}", headers=JSON)

    assert response.status_code == 200
    assert response.json["error"].startswith(f"invalid state '{state}'")
    assert snapshot(client) == before
    assert not client.exists(queue.keys.state(state))


def test_put_state_of_unknown_job(http):
    response = http.put("/job/42/state/active", headers=JSON)
    assert response.json == {"error": 'job "42" doesnt exist'}


def test_put_priority_parses_like_parseint(queue, client, http):
    job = queue.create("email").save()

    assert http.put(f"/job/{job.id}/priority/-10", headers=JSON).json == {"message": "updated priority"}
    assert http.get(f"/job/{job.id}").json["priority"] == -10
    assert http.put(f"/job/{job.id}/priority/7abc", headers=JSON).json == {"message": "updated priority"}
    assert http.get(f"/job/{job.id}").json["priority"] == 7
    member = f"{len(str(job.id)):02d}|{job.id}"
    assert client.zscore(queue.keys.state("inactive"), member) == 7


@pytest.mark.parametrize("priority", ["high", "abc", "NaN"])
def test_put_invalid_priority_is_refused_and_nothing_changes(queue, client, http, priority):
    job = queue.create("email").save()
    before = snapshot(client)

    response = http.put(f"/job/{job.id}/priority/{priority}", headers=JSON)

    assert response.status_code == 200 and response.json == {"error": "invalid priority"}
    assert snapshot(client) == before


def test_put_priority_beyond_javascripts_safe_integers_is_refused(queue, client, http):
    job = queue.create("email").save()
    before = snapshot(client)

    response = http.put(f"/job/{job.id}/priority/{2**53}", headers=JSON)

    assert response.json["error"].startswith(f"invalid priority {2**53}: expected an integer from")
    assert snapshot(client) == before


@pytest.mark.parametrize("priority", ["%D9%A1", "%C2%B2", "%EF%BC%95"])
def test_put_priority_in_other_unicode_digits_is_invalid_as_for_parseint(queue, client, http, priority):
    job = queue.create("email").save()
    before = snapshot(client)

    assert http.put(f"/job/{job.id}/priority/{priority}", headers=JSON).json == {"error": "invalid priority"}
    assert snapshot(client) == before


def test_put_priority_of_thousands_of_digits_is_refused_not_a_500(queue, client, http):
    job = queue.create("email").save()
    before = snapshot(client)

    response = http.put(f"/job/{job.id}/priority/{'9' * 5000}", headers=JSON)

    assert response.status_code == 200 and response.json["error"].startswith("invalid priority inf: expected")
    assert snapshot(client) == before


# --- DELETE /job/:id and GET /inactive/:id -------------------------------------------------------------


def test_delete_removes_then_reports_missing(queue, client, http):
    job = queue.create("email").save()

    assert http.delete(f"/job/{job.id}", headers=JSON).json == {"message": f"job {job.id} removed"}
    assert not client.exists(queue.keys.job(job.id))
    assert http.get("/stats").json["inactiveCount"] == 0
    assert http.delete(f"/job/{job.id}", headers=JSON).json == {"error": f'job "{job.id}" doesnt exist'}


def test_get_inactive_requeues_a_failed_job(queue, http):
    job = queue.create("email").save()
    job.set_state("failed")

    response = http.get(f"/inactive/{job.id}", headers=AJAX)

    assert response.json == {"message": f"job {job.id} inactive"}
    assert queue.get_job(job.id).state == "inactive"
    assert http.get("/inactive/999", headers=AJAX).json == {"error": 'job "999" doesnt exist'}


# --- POST /job --------------------------------------------------------------------------------------


def test_post_one_job(queue, http):
    response = http.post(
        "/job",
        json={
            "type": "email",
            "data": {"title": "welcome tj"},
            "options": {"attempts": 3, "priority": "high", "ttl": 5000},
        },
    )

    assert response.status_code == 200
    assert response.json == {"message": "job created", "id": response.json["id"]}
    assert isinstance(response.json["id"], int)
    body = http.get(f"/job/{response.json['id']}").json
    assert body["priority"] == -10 and body["ttl"] == "5000" and body["attempts"]["max"] == 3
    assert [j["id"] for j in http.get("/jobs/inactive/0..10").json] == [response.json["id"]]


def test_post_many_jobs_answers_in_order(queue, http):
    response = http.post("/job", json=[{"type": "test:inserts", "data": {"n": i}} for i in range(5)])
    assert response.status_code == 200
    assert [entry["message"] for entry in response.json] == ["job created"] * 5
    assert http.get("/jobs/test:inserts/inactive/stats").json == {"count": 5}


def test_post_array_with_a_bad_element_keeps_going_and_reports_the_first_failure(queue, http):
    response = http.post("/job", json=[{"type": "email"}, {"data": {}}, {"type": "email"}])

    assert response.status_code == 400
    assert len(response.json) == 3
    assert response.json[1] == {"error": "Must provide job type"}
    assert response.json[0]["message"] == response.json[2]["message"] == "job created"
    assert http.get("/stats").json["inactiveCount"] == 2


def test_post_options_are_applied(queue, client, http):
    response = http.post(
        "/job",
        json={
            "type": "email",
            "data": {"to": "a"},
            "options": {
                "delay": 60000,
                "backoff": {"type": "fixed", "delay": 500},
                "removeOnComplete": True,
                "searchKeys": ["to"],
                "attempts": "4",
            },
        },
    )
    job_id = response.json["id"]
    stored = client.hgetall(queue.keys.job(job_id))
    assert stored["state"] == "delayed" and stored["delay"] == "60000"
    assert json.loads(stored["backoff"]) == {"type": "fixed", "delay": 500}
    assert stored["removeOnComplete"] == "true" and stored["max_attempts"] == "4"
    assert int(stored["promote_at"]) == int(stored["created_at"]) + 60000


@pytest.mark.parametrize(
    "options",
    [
        {"priority": "bogus"},  # Kue stored it raw: an invisible job
        {"backoff": "function () { return 1; }"},  # Kue eval'd it in every worker
        {"attempts": "many"},
        {"delay": -5},
    ],
)
def test_post_invalid_option_creates_nothing(queue, client, http, options):
    response = http.post("/job", json={"type": "email", "options": options})

    assert response.status_code == 400
    assert "invalid" in response.json["error"]
    assert client.keys("*") == []


@pytest.mark.parametrize("body", [b"", b"[]", b"{}"])
def test_post_empty_body_is_204(queue, client, http, body):
    response = http.post("/job", data=body, headers=JSON)
    assert response.status_code == 204 and response.data == b""
    assert client.keys("*") == []


def test_post_malformed_json_is_a_clear_json_400(http):
    response = http.post("/job", data=b'{"type": "email",', headers=JSON)
    assert response.status_code == 400
    assert response.json["error"].startswith("request body is not valid JSON")


def test_post_json_nested_too_deeply_is_a_clear_400(client, http):
    response = http.post("/job", data="[" * 50_000 + "]" * 50_000, headers=JSON)
    assert response.status_code == 400
    assert response.json["error"].startswith("request body is not valid JSON")
    assert client.keys("*") == []


@pytest.fixture
def unreachable(caplog):
    """A dashboard whose Redis URL (with a password) points at a port nothing listens on."""
    from tests.redis_server import free_port

    port = free_port()
    app = create_app(f"redis://:s3cret@127.0.0.1:{port}/2", title="<b>Jobs</b>")
    caplog.set_level(logging.WARNING)
    yield Client(app, Response), f"redis://127.0.0.1:{port}/2"
    app.close()


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/stats"),
        ("GET", "/jobs/0..10"),
        ("GET", "/job/1"),
        ("GET", "/pykue/metrics"),
        ("PUT", "/job/1/state/failed"),
        ("DELETE", "/job/1"),
        ("POST", "/job"),
    ],
)
def test_redis_down_api_routes_answer_503_in_json_with_one_warning(unreachable, caplog, method, path):
    http, _ = unreachable

    response = http.open(
        path,
        method=method,
        json={"type": "email"} if method == "POST" else None,
        headers=None if method == "POST" else JSON,
    )

    assert response.status_code == 503 and response.mimetype == "application/json"
    assert response.json["error"].startswith("redis unavailable: ")
    assert "connect" in response.json["error"].lower()
    assert response.headers["Retry-After"].isdigit()
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert caplog.records[0].exc_info is None and "s3cret" not in caplog.text


@pytest.mark.parametrize("path", ["/", "/failed"])
def test_redis_down_pages_answer_503_in_html_naming_the_url_without_its_password(unreachable, caplog, path):
    http, url = unreachable

    response = http.get(path, headers={"Accept": "text/html"})

    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "Redis cannot be reached" in page and f"<code>{url}</code>" in page and "retry" in page
    assert "s3cret" not in page and "<b>Jobs</b>" not in page and "&lt;b&gt;Jobs&lt;/b&gt;" in page
    assert [r.levelno for r in caplog.records] == [logging.WARNING] and caplog.records[0].exc_info is None
    assert url in caplog.text and "s3cret" not in caplog.text


@pytest.mark.parametrize("payload", ["hello", 42, True, None])
def test_post_an_unknown_kind_of_input_is_refused(client, http, payload):
    response = http.post("/job", data=json.dumps(payload), headers=JSON)
    assert response.status_code == 400
    assert response.json == {"error": "expected a job object or an array of job objects"}
    assert client.keys("*") == []


def test_post_array_element_that_is_not_an_object(http):
    response = http.post("/job", json=[{"type": "email"}, "email", 3])
    assert response.status_code == 400
    assert response.json[1:] == [{"error": "expected a job object"}] * 2
    assert response.json[0]["message"] == "job created"


def test_post_type_must_be_a_string(client, http):
    response = http.post("/job", json={"type": 5})
    assert response.status_code == 400 and "type" in response.json["error"]
    assert client.keys("*") == []


def test_post_type_with_a_lone_surrogate_is_a_400_not_a_500(client, http):
    response = http.post("/job", data=b'{"type": "email\\ud800"}', headers=JSON)
    assert response.status_code == 400
    assert response.json["error"].startswith('invalid type "email\\ud800": ')
    assert client.keys("*") == []


@pytest.mark.parametrize(
    "body, field",
    [(b'{"type": "email", "options": {"delay": %s}}', "delay"), (b'{"type": "email", "data": %s}', "data")],
)
def test_post_numbers_too_long_for_python_are_read_as_javascript_infinity(client, http, body, field):
    response = http.post("/job", data=body % (b"9" * 5000), headers=JSON)
    assert response.status_code == 400
    assert response.json["error"].startswith(f"invalid {field} inf: ")
    assert client.keys("*") == []


def test_post_body_limit_is_enforced_and_configurable(queue, client):
    default = Client(create_app(queue), Response)
    big = json.dumps({"type": "email", "data": {"blob": "x" * 200_000}})
    response = default.post("/job", data=big, headers=JSON)
    assert response.status_code == 413
    assert response.json == {"error": "request body is larger than the 102400 byte limit"}
    assert client.keys("*") == []

    roomy = Client(create_app(queue, max_body=1_000_000), Response)
    assert roomy.post("/job", data=big, headers=JSON).status_code == 200
    tight = Client(create_app(queue, max_body=64), Response)
    assert tight.post("/job", json={"type": "email", "data": {"x": "y" * 100}}).status_code == 413


# --- forged requests: tests/integration/test_web_forgery.py ---------------------------------------

# --- the Host allowlist (DNS rebinding) -------------------------------------------------------------


def test_a_dns_rebound_page_cannot_read_or_change_anything(queue, client):
    job = queue.create("email", {"title": "secret"}).save()
    job.set_state("failed")
    http = Client(create_app(queue, allowed_hosts=LOOPBACK), Response)
    before = snapshot(client)

    for method, path, extra in (
        ("GET", "/jobs/0..10", {}),
        ("GET", f"/job/{job.id}", {}),
        ("GET", "/stats", {}),
        ("DELETE", f"/job/{job.id}", JSON),
        ("DELETE", f"/job/{job.id}", AJAX),
        ("PUT", f"/job/{job.id}/state/complete", JSON),
        ("GET", f"/inactive/{job.id}", AJAX),
        ("POST", "/job", JSON),
        ("GET", "/", {}),
        ("GET", "/static/dashboard.js", {}),
    ):
        kwargs = {"json": {"type": "email"}} if method == "POST" else {}
        response = http.open(path, method=method, headers={**REBOUND, **extra}, **kwargs)
        assert response.status_code == 400, (method, path)
        assert response.json == {
            "error": "Host 'evil.example:3000' is not allowed by this dashboard "
            "(allowed_hosts, or --allowed-host NAME on the command line)"
        }
        assert "secret" not in response.get_data(as_text=True)
    assert snapshot(client) == before


@pytest.mark.parametrize(
    "host", ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "localhost", "LOCALHOST:3000", "[0:0:0:0:0:0:0:1]:3000"]
)
def test_the_allowed_hosts_are_answered_with_or_without_a_port(queue, host):
    job = queue.create("email").save()
    http = Client(create_app(queue, allowed_hosts=LOOPBACK), Response)
    origin = f"http://{host.lower()}"
    same = {"Host": host, "Origin": origin, "Sec-Fetch-Site": "same-origin"}

    assert http.get("/stats", headers=same).json["inactiveCount"] == 1
    assert http.get("/", headers=same).status_code == 200
    assert http.delete(f"/job/{job.id}", headers={**same, **AJAX}).json == {"message": f"job {job.id} removed"}


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:3000",
        "evil.example",
        "localhost.evil.example:3000",
        "127.0.0.1.nip.io:3000",
        "[::2]:3000",
        "[::1]evil",
        "localhost:3000@evil.example",
        "",
        "localhost:99999",
    ],
)
def test_any_other_host_is_refused(queue, host):
    http = Client(create_app(queue, allowed_hosts=LOOPBACK), Response)
    assert http.get("/stats", headers={"Host": host}).status_code == 400


def test_allowed_host_entries_ignore_case_and_port_and_may_cover_subdomains(queue):
    http = Client(create_app(queue, allowed_hosts=["Jobs.Example.com:8443", "::1", ".internal.example"]), Response)

    for host in (
        "jobs.example.com",
        "jobs.example.com:443",
        "[::1]:3000",
        "queue.internal.example:80",
        "internal.example",
    ):
        assert http.get("/stats", headers={"Host": host}).status_code == 200, host
    for host in ("example.com", "jobs.example.com.evil.example", "localhost:3000", "127.0.0.1:3000"):
        assert http.get("/stats", headers={"Host": host}).status_code == 400, host


def test_an_empty_allowlist_answers_nothing_and_none_answers_any_host(queue):
    assert Client(create_app(queue, allowed_hosts=[]), Response).get("/stats").status_code == 400
    assert create_app(queue).allowed_hosts is None
    for http in (Client(create_app(queue), Response), Client(create_app(queue, allowed_hosts=None), Response)):
        assert http.get("/stats", headers={"Host": "evil.example:3000"}).status_code == 200


def test_mounted_in_another_app_the_allowlist_stays_off_and_can_be_set(queue):
    outer = DispatcherMiddleware(Response("outer app"), {"/admin/queue": create_app(queue)})
    assert Client(outer, Response).get("/admin/queue/stats", headers={"Host": "jobs.example.com"}).status_code == 200
    guarded = DispatcherMiddleware(
        Response("outer app"), {"/admin/queue": create_app(queue, allowed_hosts=["jobs.example.com"])}
    )
    http = Client(guarded, Response)
    assert http.get("/admin/queue/stats", headers={"Host": "jobs.example.com"}).status_code == 200
    assert http.get("/admin/queue/stats", headers={"Host": "evil.example"}).status_code == 400


# --- search ---------------------------------------------------------------------------------------


def test_search_when_enabled(redis_server, client):
    searchable = Queue(redis=redis_server.url, search=True)
    try:
        http = Client(create_app(searchable), Response)
        hit = searchable.create("email", {"title": "welcome tj"}).save()
        searchable.create("email", {"title": "goodbye"}).save()

        assert http.get("/job/search?q=welcome").json == [str(hit.id)]
        assert http.get("/job/search").json == []
        assert http.get("/job/search?q=").json == []
    finally:
        searchable.close()


def test_search_disabled_answers_an_empty_list(queue, http):
    make_jobs(queue, 2)
    assert http.get("/job/search?q=job").json == []


# --- pykue's own metrics route ----------------------------------------------------------------------


def test_metrics_returns_the_per_minute_counters(queue, client, http):
    minute = minute_with_room(room=5)
    client.set(queue.keys.metric("complete", minute), 7)
    client.set(queue.keys.metric("failed", minute - 1), 2)
    client.set(queue.keys.work_time, 900)

    body = http.get("/pykue/metrics?minutes=60").json

    assert len(body["minutes"]) == len(body["complete"]) == len(body["failed"]) == 60
    assert body["complete"][-1] == 7 and body["failed"][-2] == 2
    assert sum(body["complete"]) == 7 and sum(body["failed"]) == 2
    assert body["workTime"] == 900


def test_metrics_span_is_clamped_to_the_two_hours_redis_keeps(queue, client, http):
    minute = minute_with_room(room=5)
    client.set(queue.keys.metric("complete", minute - 119), 4)

    for asked, served in (("99999999", 120), ("1441", 120), ("120", 120), ("9" * 5000, 120), ("0", 1), ("-5", 1)):
        body = http.get(f"/pykue/metrics?minutes={asked}").json
        assert len(body["minutes"]) == len(body["complete"]) == len(body["failed"]) == served, asked
    assert http.get("/pykue/metrics?minutes=500").json["complete"][0] == 4


@pytest.mark.parametrize("minutes", ["abc", "", "%D9%A1"])
def test_metrics_minutes_that_are_no_integer_are_a_400(http, minutes):
    response = http.get(f"/pykue/metrics?minutes={minutes}")
    assert response.status_code == 400
    assert response.json["error"].startswith(f"invalid minutes {urllib.parse.unquote(minutes)!r}: expected an integer")


def test_jobs_by_id_in_the_order_asked_skipping_missing_and_junk(queue, http):
    first, second, third = make_jobs(queue, 3)
    second.remove()

    body = http.get(f"/pykue/jobs?ids={third.id},{second.id},x,{first.id},0,-1").json

    assert [job["id"] for job in body] == [third.id, first.id]
    assert body[0] == third.to_json()
    assert http.get("/pykue/jobs").json == []


# --- pages, mounting, several apps ------------------------------------------------------------------


def test_pages_render_for_every_state_and_escape_redis_text(queue, http):
    queue.create("<script>alert(1)</script>", {"title": "<img src=x onerror=alert(2)>"}).save()
    for path in ("/", "/workers", "/inactive", "/active", "/failed", "/complete", "/delayed"):
        response = http.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        if path not in ("/", "/workers"):  # the job pages list the types in their filter
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert http.get("/nope").status_code == 404
    assert "<pre>Cannot GET /&lt;b&gt;</pre>" not in http.get("/<b>").get_data(as_text=True)
    assert "<pre>Cannot GET /%3Cb%3E</pre>" in http.get("/<b>").get_data(as_text=True)


def test_the_page_takes_kues_priorities_from_the_one_python_table(queue, http):
    expected = sorted([value, name] for name, value in PRIORITIES.items())
    page = http.get("/inactive").get_data(as_text=True)

    settings = json.loads(re.search(r'<script id="settings" type="application/json">(.*?)</script>', page, re.S)[1])
    assert settings["priorities"] == expected
    bulk = re.search(r'<select id="bulk-priority".*?</select>', page, re.S)[0]
    assert [[int(v), n] for v, n in re.findall(r'<option value="(-?[0-9]+)">(\w+)</option>', bulk)] == expected
    for asset in (UI_DIR / "static" / "dashboard.js", UI_DIR / "templates" / "jobs.html"):
        text = asset.read_text()
        assert not [name for name in PRIORITIES if f"'{name}'" in text or f">{name}<" in text], asset


def test_static_assets_are_served(http):
    for path, mimetype in (
        ("/static/dashboard.js", "text/javascript"),
        ("/static/dashboard.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ):
        response = http.get(path)
        assert response.status_code == 200 and response.mimetype == mimetype, path
        response.close()


def test_mounted_under_a_path_every_link_follows_script_name(queue):
    make_jobs(queue, 2)
    outer = DispatcherMiddleware(Response("outer app"), {"/admin/queue": create_app(queue)})
    http = Client(outer, Response)

    page = http.get("/admin/queue/failed").get_data(as_text=True)

    assert 'href="/admin/queue/static/dashboard.css' in page
    assert 'src="/admin/queue/static/dashboard.js' in page
    assert 'href="/admin/queue/inactive"' in page
    assert '"root": "/admin/queue"' in page
    assert http.get("/admin/queue/static/dashboard.js").status_code == 200
    assert http.get("/admin/queue/stats").json["inactiveCount"] == 2
    assert http.get("/admin/queue/jobs/0..0").json[0]["id"] == 1
    assert http.get("/stats").get_data(as_text=True) == "outer app"


def test_two_dashboards_for_two_queues_in_one_process(redis_server, client):
    first = Queue(redis=redis_server.url, prefix="first")
    second = Queue(redis=redis_server.url, prefix="second")
    try:
        first.create("email").save()
        outer = DispatcherMiddleware(
            Response("root"), {"/one": create_app(first, title="One"), "/two": create_app(second, title="Two")}
        )
        http = Client(outer, Response)
        assert http.get("/one/stats").json["inactiveCount"] == 1
        assert http.get("/two/stats").json["inactiveCount"] == 0
        assert "<title>Overview · One</title>" in http.get("/one/").get_data(as_text=True)
        assert "<title>Overview · Two</title>" in http.get("/two/").get_data(as_text=True)
    finally:
        first.close()
        second.close()


def test_create_app_from_a_url_opens_and_closes_its_own_queue(redis_server, client):
    app = create_app(redis_server.url, prefix="other", title="Other")
    try:
        assert app.queue.prefix == "other"
        assert Client(app, Response).get("/stats").json["inactiveCount"] == 0
    finally:
        app.close()


# --- auth and the command -------------------------------------------------------------------------------


def test_basic_auth_middleware(app):
    http = Client(BasicAuth(app, "admin", "s3cret:x"), Response)

    refused = http.get("/stats")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="pykue"')
    wrong = base64.b64encode(b"admin:nope").decode()
    assert http.get("/stats", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    good = base64.b64encode(b"admin:s3cret:x").decode()
    assert http.get("/stats", headers={"Authorization": f"Basic {good}"}).status_code == 200


def test_dashboard_command_help_lists_kues_flags():
    result = CliRunner().invoke(dashboard, ["-h"])
    assert result.exit_code == 0
    for flag in (
        "-p, --port",
        "-r, --redis",
        "-q, --prefix",
        "--host",
        "--title",
        "--auth",
        "--search",
        "--access-log",
    ):
        assert flag in result.output
    assert "127.0.0.1" in result.output


def test_dashboard_command_refuses_malformed_auth():
    result = CliRunner().invoke(dashboard, ["--auth", "nocolon"])
    assert result.exit_code == 2
    assert "USER:PASSWORD" in result.output


def serve_once(monkeypatch, args, probe, env=None):
    """Run ``pykue dashboard ARGS`` with a stand-in server that calls ``probe(wsgi_app)`` and stops.

    Returns the command's output and what ``probe`` returned: the real command line, the real
    application it builds, no socket.
    """
    import werkzeug.serving

    seen = {}

    class StandIn:
        server_port = 3000

        def __init__(self, host, port, app, **kwargs):
            seen["bind"], self.app = host, app

        def serve_forever(self):
            seen["probe"] = probe(self.app)

        def server_close(self):
            pass

    monkeypatch.setattr(werkzeug.serving, "make_server", StandIn)
    result = CliRunner().invoke(dashboard, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output, seen["probe"]


def status_by_host(*hosts, path="/stats", method="GET", headers=None):
    def probe(app):
        http = Client(app, Response)
        return {
            host: http.open(path, method=method, headers={"Host": host, **(headers or {})}).status_code
            for host in hosts
        }

    return probe


def test_dashboard_command_on_loopback_refuses_a_rebound_host(monkeypatch, redis_server, queue, client):
    job = queue.create("email").save()
    before = snapshot(client)
    rebound = {key: value for key, value in REBOUND.items() if key != "Host"}

    _, statuses = serve_once(
        monkeypatch,
        ["-r", redis_server.url],
        status_by_host("evil.example:3000", "127.0.0.1:3000", "localhost:3000", "[::1]:3000"),
    )
    assert statuses == {"evil.example:3000": 400, "127.0.0.1:3000": 200, "localhost:3000": 200, "[::1]:3000": 200}

    _, statuses = serve_once(
        monkeypatch,
        ["-r", redis_server.url],
        status_by_host("evil.example:3000", path=f"/job/{job.id}", method="DELETE", headers={**rebound, **AJAX}),
    )
    assert statuses == {"evil.example:3000": 400}
    _, body = serve_once(
        monkeypatch,
        ["-r", redis_server.url],
        lambda app: Client(app, Response).get("/jobs/0..10", headers=REBOUND).json,
    )
    assert "not allowed" in body["error"]
    assert snapshot(client) == before


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_dashboard_command_restricts_hosts_on_every_loopback_address(monkeypatch, redis_server, host):
    own = f"[{host}]:3000" if ":" in host else f"{host}:3000"
    _, statuses = serve_once(
        monkeypatch,
        ["-r", redis_server.url, "--host", host],
        status_by_host("evil.example:3000", own, "localhost:3000", "jobs.example.com"),
    )
    assert statuses == {"evil.example:3000": 400, own: 200, "localhost:3000": 200, "jobs.example.com": 400}


def test_dashboard_command_allowed_host_option_and_env(monkeypatch, redis_server):
    hosts = ("jobs.example.com", "queue.example.com:8080", "other.example.com", "localhost:3000", "evil.example")
    _, by_flag = serve_once(
        monkeypatch,
        ["-r", redis_server.url, "--allowed-host", "jobs.example.com", "--allowed-host", "queue.example.com"],
        status_by_host(*hosts),
    )
    _, by_env = serve_once(
        monkeypatch,
        ["-r", redis_server.url],
        status_by_host(*hosts),
        env={"PYKUE_DASHBOARD_ALLOWED_HOSTS": "jobs.example.com, queue.example.com"},
    )
    expected = {
        "jobs.example.com": 200,
        "queue.example.com:8080": 200,
        "other.example.com": 400,
        "localhost:3000": 200,
        "evil.example": 400,
    }
    assert by_flag == by_env == expected


def test_dashboard_command_on_a_network_address_restricts_only_with_allowed_host(monkeypatch, redis_server):
    hosts = ("evil.example:3000", "jobs.example.com", "192.0.2.7:3000")
    _, open_statuses = serve_once(monkeypatch, ["-r", redis_server.url, "--host", "0.0.0.0"], status_by_host(*hosts))
    assert open_statuses == dict.fromkeys(hosts, 200)
    _, statuses = serve_once(
        monkeypatch,
        ["-r", redis_server.url, "--host", "192.0.2.7", "--allowed-host", "jobs.example.com"],
        status_by_host(*hosts),
    )
    assert statuses == {"evil.example:3000": 400, "jobs.example.com": 200, "192.0.2.7:3000": 200}


def test_dashboard_command_refuses_a_rebound_host_before_asking_for_a_password(monkeypatch, redis_server):
    good = {"Authorization": "Basic " + base64.b64encode(b"admin:s3cret").decode()}
    _, statuses = serve_once(
        monkeypatch,
        ["-r", redis_server.url, "--auth", "admin:s3cret"],
        status_by_host("evil.example:3000", "127.0.0.1:3000"),
    )
    assert statuses == {"evil.example:3000": 400, "127.0.0.1:3000": 401}
    _, statuses = serve_once(
        monkeypatch,
        ["-r", redis_server.url, "--auth", "admin:s3cret"],
        status_by_host("evil.example:3000", "127.0.0.1:3000", headers=good),
    )
    assert statuses == {"evil.example:3000": 400, "127.0.0.1:3000": 200}


def test_dashboard_command_help_lists_allowed_host():
    result = CliRunner().invoke(dashboard, ["-h"])
    assert result.exit_code == 0
    assert "--allowed-host NAME" in result.output and "PYKUE_DASHBOARD_ALLOWED_HOSTS" in result.output


# --- jobs made by Node Kue ---------------------------------------------------------------------------------

needs_node = pytest.mark.skipif(not HAVE_KUE_NODE, reason="tests/kue_node.py is not in this checkout")


@pytest.mark.node
@needs_node
def test_jobs_made_by_node_kue_read_exactly_as_kue_reads_them(kue_node, http):
    ids = kue_node.create_jobs(
        [
            {
                "type": "email",
                "data": {"title": "from node"},
                "priority": "high",
                "attempts": 3,
                "ttl": 5000,
                "logs": ["hello from kue"],
            },
            {"type": "email", "data": {"title": "later"}, "delay": 60000},
            {"type": "video:encode", "data": {"file": "a.mp4"}, "priority": "low"},
        ]
    )
    kue = {entry["id"]: entry for entry in kue_node.get_jobs(ids)}

    for job_id in ids:
        ours = http.get(f"/job/{job_id}").json
        theirs = kue[job_id]["json"]
        assert ours == {**theirs, "id": str(job_id)}
        assert list(ours) == list(theirs)
        assert http.get(f"/job/{job_id}/log").json == kue[job_id]["log"]

    assert http.get(f"/job/{ids[0]}/log").json == ["hello from kue"]
    stats = http.get("/stats").json
    assert (stats["inactiveCount"], stats["delayedCount"]) == (2, 1)
    assert sorted(http.get("/job/types").json) == ["email", "video:encode"]


@pytest.mark.node
@needs_node
def test_range_routes_match_node_kues_own_ranges(kue_node, queue, http):
    kue_node.create_jobs(
        [
            {"type": "email", "data": {"n": i}, "priority": p}
            for i, p in enumerate(["low", "high", "normal", "critical", "medium"])
        ]
    )
    queue.create("email", {"n": "py"}).priority("high").save()
    specs = [
        ("/jobs/0..3", {"kind": "range", "from": 0, "to": 3}),
        ("/jobs/0..10/desc", {"kind": "range", "from": 0, "to": 10, "order": "desc"}),
        ("/jobs/inactive/1..4/asc", {"kind": "state", "state": "inactive", "from": 1, "to": 4, "order": "asc"}),
        (
            "/jobs/email/inactive/0..2/desc",
            {"kind": "type", "type": "email", "state": "inactive", "from": 0, "to": 2, "order": "desc"},
        ),
    ]
    kue_ranges = kue_node.query(ranges=[spec for _, spec in specs])["ranges"]

    for (path, _), theirs in zip(specs, kue_ranges):
        assert http.get(path).json == theirs, path


@pytest.mark.node
@needs_node
def test_jobs_posted_to_pykue_read_back_in_node_kue(kue_node, http):
    response = http.post(
        "/job", json={"type": "email", "data": {"title": "via pykue"}, "options": {"priority": "high", "attempts": 2}}
    )
    entry = kue_node.get_job(response.json["id"])
    assert entry["json"]["priority"] == -10
    assert entry["json"]["data"] == {"title": "via pykue"}
    assert entry["json"]["attempts"] == {"made": 0, "remaining": 2, "max": 2}
    assert entry["json"]["state"] == "inactive"


@pytest.fixture
def kue_app(kue_node, tmp_path):
    """Node Kue's own Express app (``kue.app``) on the same Redis: the reference to compare with."""
    yield from serve_kue_app(kue_node, tmp_path)


@pytest.mark.node
@needs_node
def test_read_routes_answer_exactly_as_node_kues_own_app(kue_app, kue_node, queue, http):
    kue_node.create_jobs(
        [
            {"type": "email", "data": {"title": "node"}, "priority": "high", "logs": ["hi"]},
            {"type": "test:inserts", "data": {"n": 1}, "delay": 60000},
        ]
    )
    queue.create("email", {"title": "python"}).attempts(3).save()
    done = queue.create("email", {"title": "done"}).save()
    done.set_state("complete")
    queue.client.set(queue.keys.work_time, 1234)
    paths = [
        "/stats",
        "/job/types",
        "/job/1",
        "/job/3",
        "/job/999",
        "/job/1/log",
        "/job/999/log",
        "/jobs/0..10",
        "/jobs/0..2/desc",
        "/jobs/1..1/asc",
        "/jobs/inactive/0..10",
        "/jobs/delayed/0..10/desc",
        "/jobs/complete/0..-1",
        "/jobs/email/inactive/0..10/desc",
        "/jobs/test:inserts/delayed/0..5",
        "/jobs/email/inactive/stats",
        "/jobs/email/complete/stats",
    ]

    for path in paths:
        status, text = kue_http(kue_app, "GET", path)
        theirs, ours = json.loads(text), http.get(path)
        if path == "/job/types":  # SMEMBERS order is Redis's whim; pykue sorts
            theirs = sorted(theirs)
        assert (ours.status_code, ours.json) == (status, theirs), path

    for path in ("/jobs/x..2", "/jobs/inactive/0..y"):  # Kue relays Redis's error; pykue names the range
        assert json.loads(kue_http(kue_app, "GET", path)[1]) == {"error": "ERR value is not an integer or out of range"}
        assert http.get(path).status_code == 400

    for path, accept in (("/job/1", "text/html"), ("/stats", "image/png"), ("/nope%3Cb%3E", "*/*")):
        status, text = kue_http(kue_app, "GET", path, headers={"Accept": accept})
        ours = http.get(path, headers={"Accept": accept})
        assert (ours.status_code, ours.get_data(as_text=True)) == (status, text) == (404, text), path


@pytest.mark.node
@needs_node
def test_writes_answer_as_node_kues_own_app(kue_app, queue, client, http):
    def both(method, path, body=None):
        theirs = kue_http(kue_app, method, path, body, {"X-Requested-With": "XMLHttpRequest"})
        kwargs = {"json": body} if body is not None else {"headers": {"X-Requested-With": "XMLHttpRequest"}}
        ours = http.open(path, method=method, **kwargs)
        return (theirs[0], json.loads(theirs[1]) if theirs[1] else None), (
            ours.status_code,
            ours.json if ours.data else None,
        )

    created_theirs, created_ours = both(
        "POST", "/job", {"type": "email", "data": {"a": 1}, "options": {"priority": "high", "attempts": 2}}
    )
    assert created_theirs[0] == created_ours[0] == 200
    assert set(created_theirs[1]) == set(created_ours[1]) == {"message", "id"}
    kue_id, our_id = created_theirs[1]["id"], created_ours[1]["id"]
    kue_job, our_job = http.get(f"/job/{kue_id}").json, http.get(f"/job/{our_id}").json
    for field in ("type", "data", "priority", "state", "attempts", "progress"):
        assert kue_job[field] == our_job[field], field

    theirs, ours = both("POST", "/job", [{"type": "email"}, {"data": {}}, {"type": "email"}])
    assert theirs[0] == ours[0] == 400
    assert [set(x) for x in theirs[1]] == [set(x) for x in ours[1]]
    assert theirs[1][1] == ours[1][1] == {"error": "Must provide job type"}

    assert both("POST", "/job", []) == ((204, None), (204, None))
    for path in ("/job/{}/state/failed", "/job/{}/priority/-5"):
        theirs, ours = both("PUT", path.format(kue_id))
        assert theirs == ours == (200, theirs[1]) and "message" in theirs[1]
    assert http.get(f"/job/{kue_id}").json["state"] == "failed"
    assert both("PUT", "/job/999/priority/x") == ((200, {"error": "invalid priority"}),) * 2
    theirs, ours = both("GET", "/inactive/999")
    assert theirs == ours == (200, {"error": 'job "999" doesnt exist'})

    theirs = kue_http(kue_app, "DELETE", f"/job/{kue_id}", headers={"X-Requested-With": "XMLHttpRequest"})
    ours = http.delete(f"/job/{our_id}", headers={"X-Requested-With": "XMLHttpRequest"})
    assert json.loads(theirs[1]) == {"message": f"job {kue_id} removed"}
    assert ours.json == {"message": f"job {our_id} removed"}
    again = kue_http(kue_app, "DELETE", f"/job/{kue_id}")
    assert json.loads(again[1]) == {"error": f'job "{kue_id}" doesnt exist'}


@pytest.mark.parametrize(
    "body",
    [
        '{"type":"email","data":NaN}',
        '{"type":"email","data":{"x":Infinity}}',
        '{"type":"email","options":{"delay":-Infinity}}',
    ],
)
def test_post_nan_or_infinity_is_not_json(http, client, body):
    response = http.post("/job", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("request body is not valid JSON")
    assert client.keys("*") == []


@pytest.mark.parametrize(
    "options, message",
    [
        ({"attempts": True}, "invalid attempts true: expected an integer"),
        ({"backoff": {"type": "weird"}}, 'invalid backoff {"type": "weird"}: '),
        ({"priority": "urgent"}, 'invalid priority "urgent": '),
    ],
)
def test_post_errors_show_values_as_the_client_wrote_them_in_json(client, http, options, message):
    response = http.post("/job", json={"type": "email", "options": options})
    assert response.status_code == 400
    assert response.json["error"].startswith(message)
    assert client.keys("*") == []
