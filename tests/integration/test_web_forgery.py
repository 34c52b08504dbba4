"""Forged browser requests against the routes that change jobs: each is refused and writes nothing.

The headers are what a browser sends when a page on another site makes it send the request
(a form, an ``<img>``, ``fetch`` in no-cors mode), with fetch metadata and without it (a
browser too old to send any). Kue's own clients, which send none of these headers, are
answered as Kue answers them (see test_kue_jsonapi.py); the last tests here check that
the dashboard's own page, a typed URL and a same-host referrer are let through too.
"""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from pykue.web import create_app
from tests.redis_probe import snapshot

EVIL = "https://evil.example"
#: A page on another site that the browser labels with fetch metadata (Chrome 76+, Firefox 90+, Safari 16.4+).
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": EVIL, "Referer": f"{EVIL}/page"}
#: A page on a sibling subdomain (jobs.example.com attacked from blog.example.com).
SAME_SITE = {"Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.com"}
#: A browser without fetch metadata: only ``Origin`` (on POST, PUT, DELETE) or ``Referer`` tell.
OLD_BROWSER_ORIGIN = {"Origin": EVIL}
OLD_BROWSER_NULL_ORIGIN = {"Origin": "null"}  # a sandboxed frame, a file: page, a cross-origin redirect
OLD_BROWSER_REFERER = {"Referer": f"{EVIL}/mail.html"}

FOREIGN = {
    "cross-site": CROSS_SITE,
    "same-site": SAME_SITE,
    "foreign-origin": OLD_BROWSER_ORIGIN,
    "null-origin": OLD_BROWSER_NULL_ORIGIN,
    "foreign-referer": OLD_BROWSER_REFERER,
}


@pytest.fixture
def http(queue):
    return Client(create_app(queue), Response)


@pytest.fixture
def failed_job(queue):
    job = queue.create("email", {"to": "a@example.com"}).save()
    job.set_state("failed")
    return job


def assert_refused(response, status=403):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert list(response.json) == ["error"]


def writes(job_id):
    """Every route that changes jobs, as Kue's clients send it (bodiless PUT and DELETE, JSON POST)."""
    return [
        ("PUT", f"/job/{job_id}/state/complete", {}),
        ("PUT", f"/job/{job_id}/priority/-15", {}),
        ("DELETE", f"/job/{job_id}", {}),
        ("GET", f"/inactive/{job_id}", {}),
        ("POST", "/job", {"json": {"type": "email"}}),
        ("PUT", "/pykue/types/email/pause", {}),
        ("PUT", "/pykue/types/email/resume", {}),
    ]


@pytest.mark.parametrize("source", FOREIGN)
def test_a_request_a_browser_sent_for_another_site_is_refused_and_writes_nothing(
    queue, client, http, failed_job, source
):
    before = snapshot(client)

    for method, path, body in writes(failed_job.id):
        response = http.open(path, method=method, headers=FOREIGN[source], **body)
        assert_refused(response)
        assert "came from another site" in response.json["error"], (method, path)

    assert snapshot(client) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image", "Referer": f"{EVIL}/"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},  # a link
        {"Referer": f"{EVIL}/mail.html", "Accept": "image/avif,image/webp,*/*"},  # an <img>, no fetch metadata
        {"Referer": "http://localhost.evil.example/"},
    ],
    ids=["img-tag", "link", "img-tag-old-browser", "lookalike-host"],
)
def test_a_cross_site_get_inactive_is_a_json_403_and_requeues_nothing(queue, client, http, failed_job, headers):
    before = snapshot(client)

    response = http.get(f"/inactive/{failed_job.id}", headers=headers)

    assert_refused(response)
    assert snapshot(client) == before
    assert queue.get_job(failed_job.id).state == "failed"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "type=email"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="type"\r\n\r\nemail\r\n--x--'),
        ("text/plain", '{"type": "email"}'),  # <form enctype="text/plain"> or fetch(..., {mode: "no-cors"})
        ("text/plain;charset=UTF-8", '{"type": "email"}'),
        (None, '{"type": "email"}'),
    ],
)
def test_a_post_without_a_json_body_creates_no_job(client, http, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    for extra in ({}, {"Sec-Fetch-Site": "same-origin"}):  # even with nothing else to tell it apart
        response = http.post("/job", data=body, headers={**headers, **extra})
        assert_refused(response, 415)
        assert "Content-Type: application/json" in response.json["error"]
    assert client.keys("*") == []


def test_a_put_or_delete_with_a_body_that_is_not_json_is_refused(queue, client, http):
    job = queue.create("email").save()
    before = snapshot(client)

    for method, path in (
        ("PUT", f"/job/{job.id}/state/failed"),
        ("PUT", f"/job/{job.id}/priority/5"),
        ("DELETE", f"/job/{job.id}"),
    ):
        assert_refused(http.open(path, method=method, data="x", headers={"Content-Type": "text/plain"}), 415)
        assert_refused(http.open(path, method=method, data="x"), 415)
    assert snapshot(client) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts, Kue's clients
        {"X-Requested-With": "XMLHttpRequest"},  # Kue's jQuery UI
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},  # the dashboard's own page
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://proxy.internal"},  # behind a proxy that rewrites Host
        {"Sec-Fetch-Site": "none"},  # a typed or bookmarked URL
        {"Origin": "http://localhost"},  # an old browser, same origin
        {"Referer": "http://localhost/failed"},
    ],
    ids=["bare", "jquery", "same-origin", "proxied", "typed", "old-browser-origin", "same-host-referer"],
)
def test_requests_from_kues_clients_and_the_dashboard_go_ahead(queue, http, failed_job, headers):
    job_id = failed_job.id
    assert http.get(f"/inactive/{job_id}", headers=headers).json == {"message": f"job {job_id} inactive"}
    assert http.put(f"/job/{job_id}/state/failed", headers=headers).json == {"message": "updated state"}
    assert http.put(f"/job/{job_id}/priority/5", headers=headers).json == {"message": "updated priority"}
    assert http.post("/job", json={"type": "email"}, headers=headers).json["message"] == "job created"
    assert http.delete(f"/job/{job_id}", headers=headers).json == {"message": f"job {job_id} removed"}
    assert not queue.client.exists(queue.keys.job(job_id))
    assert http.put("/pykue/types/email/pause", headers=headers).json == {"message": "paused email"}
    assert queue.paused_types() == {"email"}
    assert http.put("/pykue/types/email/resume", headers=headers).json == {"message": "resumed email"}
    assert queue.paused_types() == set()
