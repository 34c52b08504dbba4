"""What ``queue.create`` returns (a JobDraft) and what saving it returns (the stored Job): Kue's
ways of holding a job keep working on both."""

from __future__ import annotations

import pytest

from pykue import Job, JobDraft, PykueError


def test_the_built_object_gets_its_id_after_saving_as_in_kue(queue, client):
    draft = queue.create("email", {"to": "tj"}).priority("high").attempts(3)

    stored = draft.save()

    assert isinstance(draft, JobDraft) and isinstance(stored, Job) and not isinstance(draft, Job)
    assert draft.id == stored.id == 1 and isinstance(stored.id, int)
    assert draft.state == stored.state == "inactive" and draft.created_at == stored.created_at
    assert draft.priority() == stored.priority() == -10 and draft.attempts() == stored.attempts() == (0, 3, 3)
    assert draft.to_json() == stored.to_json() == queue.get_job(1).to_json()
    assert repr(draft) == repr(stored) == "<Job 1 'email' inactive>"


def test_the_draft_acts_on_the_job_it_became(queue, client):
    draft = queue.create("email", {"to": "tj"})
    draft.save()

    assert draft.log("sent %s", "it") is draft and draft.logs() == ["sent it"]
    assert draft.progress(3, 10) is draft and draft.progress() == 30
    draft.set_priority("critical").complete()

    assert (draft.priority(), draft.state) == (-15, "complete")
    assert queue.get_job(1).priority() == -15 and client.hget("q:job:1", "state") == "complete"
    draft.remove()
    assert client.exists("q:job:1") == 0


def test_data_reads_back_on_refresh_through_the_draft(queue):
    draft = queue.create("t", {"pair": (1, 2)})
    draft.save()

    assert draft.refresh() is draft and draft.data == {"pair": [1, 2]}


def test_before_saving_the_draft_has_no_stored_job(queue, client):
    draft = queue.create("t").priority("low")

    assert draft.id is None and draft.state is None and draft.created_at is None
    assert draft.progress() == 0 and draft.attempts() == (0, 1, 1)
    assert draft.to_json()["id"] is None and draft.to_json()["priority"] == 10
    for operation in (draft.refresh, draft.logs, draft.remove, lambda: draft.log("x"), draft.wait):
        with pytest.raises(PykueError, match="not been saved"):
            operation()
    assert client.dbsize() == 0


def test_a_job_from_redis_is_a_job_with_an_int_id(queue):
    queue.create("t").save()

    job = queue.get_job("1")

    assert isinstance(job, Job) and job.id == 1 and queue.range(0, -1)[0].id == 1
    with pytest.raises(PykueError, match="already saved"):
        job.save()
    with pytest.raises(Exception, match="already saved"):
        queue.create_many([job])
