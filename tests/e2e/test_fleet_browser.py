"""The Overview and Workers pages, the Active list, job headings and stacks, in headless
Chromium against the real dashboard and real ``pykue worker`` processes."""

from __future__ import annotations

import os
import re
import signal
import sys

import pytest

from tests.helpers import wait_for
from tests.integration.conftest import WorkerProcess
from tests.workerapp.app import build
from tests.workerapp.support import APP

pytestmark = pytest.mark.browser


@pytest.fixture
def spawn(redis_server, tmp_path):
    """``spawn("--types", "long")``: a ``pykue worker`` process of the test app, killed at teardown."""
    started: list[WorkerProcess] = []

    def start(*args: str) -> WorkerProcess:
        argv = [sys.executable, "-m", "pykue", "worker", "-A", APP, "--redis", redis_server.url, *args]
        env = {**os.environ, "PYKUE_REDIS_URL": redis_server.url}
        worker = WorkerProcess(argv, tmp_path / f"worker-{len(started)}.log", env)
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def queue(client, redis_server):
    """The test app's Queue on the private Redis (flushed by ``client``)."""
    app = build(redis_server.url, "q")
    yield app
    app.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_the_overview_counts_types_shows_workers_and_pauses_a_type(page, queue, spawn):
    # Given a worker process and jobs that complete, fail and wait
    spawn("--types", "echo,boom,long")
    queue.create_many([("echo", {"n": i}) for i in range(3)])
    queue.create("boom", {}).save()
    queue.create("slow", {"seconds": 0}).save()  # no worker serves it
    wait_for(lambda: queue.complete_count("echo") == 3 and queue.failed_count("boom") == 1, 15)

    page.goto("/")

    echo = page.locator('#types tr[data-type="echo"]')
    expect(echo.locator(".state-complete")).to_have_text("3")
    expect(echo.locator("td").nth(6)).to_contain_text("· ")  # mean run · wait, from Redis
    expect(page.locator('#types tr[data-type="boom"] .state-failed')).to_have_text("1")
    slow = page.locator('#types tr[data-type="slow"]')
    expect(slow.locator(".state-inactive")).to_have_text("1")
    expect(slow.locator("td.warn")).to_have_text("none")  # queued, and no live worker serves it
    expect(page.locator("#workers-live")).to_have_text("1")
    expect(page.locator("[data-workers]")).to_have_text("1")
    expect(page.locator("#rate-5-sub")).to_contain_text("4 finished")

    # When the reader pauses a type, every worker hears of it through Redis
    echo.get_by_role("button", name="Pause echo").click()
    wait_for(lambda: queue.paused_types() == {"echo"}, 5, message="echo paused in Redis")
    expect(echo.locator(".chip-paused")).to_have_text("paused")
    expect(page.locator("#paused-note")).to_have_text("Paused: echo")
    echo.get_by_role("button", name="Resume echo").click()
    wait_for(lambda: queue.paused_types() == set(), 5, message="echo resumed in Redis")


def test_the_overview_shows_schedules_and_the_fleets_limits(page, queue):
    # Given a schedule, a rate limit and a global concurrency, stored in Redis
    queue.add_schedule("nightly", "echo", cron="0 3 * * *", timezone="Europe/Paris", data={"n": 1})
    queue.set_rate_limit("echo", "20/s")
    queue.set_global_concurrency("boom", 3)
    queue.create("echo", {"n": 0}).save()
    queue.create("boom", {}).save()

    page.goto("/")

    # Then the schedule is listed with its rule and when it runs next
    row = page.locator('#schedules tr[data-schedule="nightly"]')
    expect(row).to_contain_text("cron 0 3 * * *")
    expect(row).to_contain_text("Europe/Paris")
    expect(row.locator("td").nth(2)).to_contain_text(re.compile(r"^in "))
    # And each limited type carries its limit beside its name
    expect(page.locator('#types tr[data-type="echo"] .chip-limit')).to_have_text("≤ 20/s")
    expect(page.locator('#types tr[data-type="boom"] .chip-limit')).to_have_text("≤ 3 active")

    # When the schedule is removed, the card goes with it
    queue.remove_schedule("nightly")
    expect(page.locator("#schedules-card")).to_be_hidden()


def test_the_workers_page_lists_running_jobs_and_a_worker_that_stopped(page, queue, spawn):
    # Given two worker processes, one running a long job
    runner = spawn("--types", "long", "--stalled-timeout", "10")  # its record lives 8 s
    idle = spawn("--types", "echo")
    job = queue.create("long", {"seconds": 60}).save()
    wait_for(lambda: queue.get_job(job.id).state == "active", 10, message="the long job to start")

    page.goto("/workers")

    cards = page.locator("#workers > li.worker")
    expect(cards).to_have_count(2)

    def card(worker):
        return page.locator(f"#workers > li.worker:has(.worker-name:text-matches(':{worker.pid}$'))")

    busy = card(runner)
    expect(busy.locator(".worker-jobs a")).to_have_text(f"#{job.id}")
    expect(busy.locator(".worker-types")).to_contain_text("long ×2")
    expect(
        page.locator(f"#workers > li.worker:has(.worker-name:text-matches(':{idle.pid}$')) .worker-idle")
    ).to_be_visible()

    # When the running job is followed from there, its detail opens, naming its worker
    busy.locator(".worker-jobs a").click()
    page.wait_for_url(re.compile(r"/active\?job="))
    detail = page.locator(f'#jobs > li.job[data-id="{job.id}"] .detail')
    expect(detail).to_be_visible()
    expect(detail.locator('[data-fact="workerId"] a')).to_have_attribute("href", re.compile("/workers#pykue"))

    # And a frozen worker is shown as having stopped heartbeating, until it ages out
    page.goto("/workers")
    runner.signal(signal.SIGSTOP)
    try:
        expect(busy.locator(".beat-stale")).to_contain_text("stopped heartbeating", timeout=15_000)
        expect(page.locator("#workers-summary")).to_contain_text("1 stopped")
        expect(cards).to_have_count(1, timeout=15_000)
    finally:
        runner.signal(signal.SIGCONT)


def test_the_active_list_and_its_count_agree_at_every_poll(page, queue, spawn):
    # Given jobs that a worker finishes one after another while the Active page is open
    queue.create_many([("long", {"seconds": 0.4}) for _ in range(10)])
    page.goto("/active")
    spawn("--types", "long")
    # Then every time the page has rendered, its rows and its count say the same
    samples = []

    def sample() -> bool:
        rows, count = page.evaluate(
            "() => [document.querySelectorAll('#jobs > li.job:not(.departed)').length,"
            " Number(document.querySelector('[data-count=active]').textContent)]"
        )
        samples.append((rows, count))
        return queue.complete_count("long") == 10 and count == 0

    wait_for(sample, 30, 0.05, "the jobs to finish")
    assert len({count for _, count in samples}) > 1, samples  # it saw them run
    assert all(rows == count for rows, count in samples), samples


def test_an_open_detail_says_its_job_finished_instead_of_vanishing(page, queue, spawn):
    job = queue.create("long", {"seconds": 2}).save()
    spawn("--types", "long")
    page.goto("/active")
    target = page.locator(f'#jobs > li.job[data-id="{job.id}"]')
    target.locator(".job-main").click()
    expect(target.locator(".detail")).to_be_visible()

    expect(target.locator(".detail-notice")).to_contain_text("This job finished in", timeout=15_000)
    expect(target.locator(".detail-notice a")).to_have_attribute("href", re.compile(f"/complete\\?job={job.id}"))
    expect(page.locator("[data-count=active]")).to_have_text("0")
    target.locator(".detail-notice button").click()
    expect(target).to_have_count(0)


def test_an_untitled_job_shows_its_type_and_a_summary_and_a_stack_its_tasks_frames(page, queue, spawn):
    waiting = queue.create("invoice", {"to": "ana@example.com", "retries": 3, "lines": [1, 2], "meta": {}}).save()
    job = queue.create("boom", {"message": "disk full"}).save()
    spawn("--types", "boom")
    wait_for(lambda: queue.get_job(job.id).state == "failed", 15, message="the failure")

    page.goto("/inactive")
    target = page.locator(f'#jobs > li.job[data-id="{waiting.id}"]')
    expect(target.locator(".job-title")).to_have_text("invoice")
    expect(target.locator(".job-summary")).to_have_text("to: ana@example.com · retries: 3 · lines: 2 items · meta: {…}")

    page.goto("/failed")
    target = page.locator(f'#jobs > li.job[data-id="{job.id}"]')
    expect(target.locator(".job-summary")).to_have_text("message: disk full")
    target.locator(".job-main").click()
    stack = target.locator("pre.error")
    expect(stack).to_contain_text("ValueError: disk full")
    expect(stack).to_contain_text("tests/workerapp/app.py")
    assert "/pykue/" not in stack.text_content()
