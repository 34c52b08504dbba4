"""A job's workflow in the real dashboard (headless Chromium): a step's detail shows its
parents and children with their states, linked, and a link opens that step's job."""

from __future__ import annotations

import pytest

from pykue import chain
from pykue.worker import Worker
from tests.e2e.test_dashboard_browser import ARTIFACTS, expect, row
from tests.workerapp.flows import build

pytestmark = pytest.mark.browser


@pytest.fixture
def flows(client, redis_server):
    queue = build(redis_server.url, "q")
    yield queue
    queue.close()


def test_a_steps_detail_shows_its_workflow_linked(page, flows):
    add, boom = flows.tasks["flow_add"], flows.tasks["flow_boom"]
    # Given a chain whose middle step failed (run by a worker), and one not started yet
    stopped = chain(add.s(1, 2), boom.s(), add.s(5)).delay()
    Worker(flows, burst=True, promote_interval=0.05).run()
    flows.pause("flow_add")
    waiting = chain(add.s(1, 1), add.s(2)).delay()
    first, middle, last = stopped.job_ids

    # When the first step's detail is opened
    page.goto("/complete")
    row(page, first).locator(".job-main").click()
    block = row(page, first).locator(".detail .block-workflow")
    # Then it shows the workflow, no parent, and its child with its state, linked
    expect(block).to_contain_text(f"chain {first} · step 1 of 3")
    expect(block.locator(".flow-parents")).to_contain_text("none")
    child = block.locator(f'.flow-children a[data-job="{middle}"]')
    expect(child).to_have_text(f"#{middle} flow_boom failed")
    expect(block.locator(".flow-head")).to_contain_text(f"stopped by #{middle}")
    block.locator("details summary").click()  # every step, for the picture
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    row(page, first).screenshot(path=str(ARTIFACTS / "workflow-detail.png"))

    # When the child's link is followed, its page opens on that job, with its own links
    child.click()
    expect(page).to_have_url(f"{page.url.split('/failed')[0]}/failed?job={middle}")
    opened = row(page, middle).locator(".detail")
    expect(opened.locator(".block-workflow .flow-parents")).to_contain_text(f"#{first} flow_add complete")
    expect(opened.locator(".block-workflow .flow-children")).to_contain_text(f"#{last} flow_add failed")
    expect(opened).to_contain_text("ValueError: boom")

    # And a step whose job does not exist yet shows as waiting, behind its queued parent
    page.goto("/inactive")
    row(page, waiting.job_ids[0]).locator(".job-main").click()
    children = row(page, waiting.job_ids[0]).locator(".detail .block-workflow .flow-children")
    expect(children).to_contain_text(f"#{waiting.job_ids[1]} flow_add waiting")

    # And a job in no workflow shows no workflow block
    plain = flows.create("flow_add", {"x": 1}).save()
    page.goto("/inactive")
    row(page, plain.id).locator(".job-main").click()
    expect(row(page, plain.id).locator(".detail .block-workflow")).to_be_hidden()
