"""The dashboard's cancel route, ``PUT /pykue/job/:id/cancel``: pykue's own beside Kue's state
route, answering as Kue's routes do, and refusing a request a browser was made to send by
another site (pykue/web/forgery.py), with nothing changed."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from pykue import Queue
from pykue.web import create_app

JSON = {"Accept": "application/json"}


@pytest.fixture
def http(queue: Queue) -> Client:
    return Client(create_app(queue), Response)


def test_cancel_a_queued_job_through_the_api(queue: Queue, http: Client) -> None:
    job = queue.create("email", {}).attempts(3).save()
    response = http.put(f"/pykue/job/{job.id}/cancel?reason=spam", headers=JSON)
    assert response.status_code == 200
    assert response.json == {"message": f"job {job.id} cancelled", "result": "cancelled"}
    job.refresh()
    assert (job.state, job.error) == ("failed", "Cancelled: spam")
    # again: it is finished now, and left as it is
    response = http.put(f"/pykue/job/{job.id}/cancel", headers=JSON)
    assert response.json == {"message": f"job {job.id} already finished", "result": "finished"}
    assert job.refresh().error == "Cancelled: spam"


def test_a_missing_job_is_kues_error_body(queue: Queue, http: Client) -> None:
    for job_id in ("999", "abc"):
        response = http.put(f"/pykue/job/{job_id}/cancel", headers=JSON)
        assert response.status_code == 200 and response.json == {"error": f'job "{job_id}" doesnt exist'}


def test_a_forged_cross_site_cancel_is_refused_and_changes_nothing(queue: Queue, http: Client) -> None:
    job = queue.create("email", {}).save()
    forged = {**JSON, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    response = http.put(f"/pykue/job/{job.id}/cancel", headers=forged)
    assert response.status_code == 403
    assert job.refresh().state == "inactive" and job.error is None
    assert http.get(f"/pykue/job/{job.id}/cancel", headers=JSON).status_code == 405
