"""The dashboard's Cancel action in headless Chromium: one job from its row and its detail,
and the selected rows at once; each job ends failed ``Cancelled: from the dashboard``."""

from __future__ import annotations

import pytest

from pykue import Queue
from tests.helpers import wait_for

pytestmark = pytest.mark.browser
CANCELLED = "Cancelled: from the dashboard"


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def row(page, job_id):
    return page.locator(f'#jobs > li.job[data-id="{job_id}"]')


def errors_of(queue: Queue, jobs) -> list[str | None]:
    return [job.refresh().error for job in jobs]


def test_cancel_one_job_from_its_row_and_from_its_detail(page, queue: Queue) -> None:
    first, second = (queue.create("email", {"title": f"mail {i}"}).save() for i in range(2))
    page.goto("/inactive")
    row(page, first.id).locator("button.cancel").click()
    expect(page.locator(".toast-success")).to_contain_text(f"Job {first.id} cancelled")
    expect(row(page, first.id)).to_have_count(0)
    wait_for(lambda: first.refresh().state == "failed", 5, message="the job to fail")
    assert first.error == CANCELLED

    row(page, second.id).locator(".job-main").click()
    row(page, second.id).locator(".detail-cancel").click()
    wait_for(lambda: second.refresh().state == "failed", 5, message="the second job to fail")
    assert second.error == CANCELLED
    expect(page.locator('[data-count="failed"]')).to_have_text("2")

    page.goto("/failed")
    expect(row(page, first.id)).to_have_count(1)
    expect(row(page, first.id).locator("button.cancel")).to_be_hidden()


def test_cancel_the_selected_rows(page, queue: Queue) -> None:
    jobs = [queue.create("email", {"title": f"later {i}"}).delay(3_600_000).save() for i in range(4)]
    page.goto("/delayed")
    for job in jobs[:3]:
        row(page, job.id).locator(".job-check").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    page.click("#bulk-cancel")
    expect(page.locator(".toast-success")).to_contain_text("Cancelled 3 jobs")
    expect(page.locator("#jobs > li.job")).to_have_count(1)
    wait_for(lambda: errors_of(queue, jobs) == [CANCELLED] * 3 + [None], 5, message="three cancelled")
    assert [job.state for job in jobs] == ["failed"] * 3 + ["delayed"]
