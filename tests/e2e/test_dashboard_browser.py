"""The real dashboard process driven in headless Chromium with Playwright.

Given jobs written to the private redis-server by pykue, each test opens the page, acts like
a user and checks both the screen and Redis. Screenshots of the main pages land in
``tests/artifacts/`` (gitignored). Without Chromium these tests skip with the way to install
it, except under ``CI``, where a missing browser fails the run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pykue import Queue
from tests.e2e.dashboard_process import DashboardProcess
from tests.helpers import minute_with_room, wait_for
from tests.redis_server import RedisServer

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
STACK = "TimeoutError: upstream took longer than 30s\n    at fetch (worker.py:120)\n    at run (worker.py:88)"


@pytest.fixture(scope="module")
def dashboard(redis_server):
    with DashboardProcess(["-r", redis_server.url, "--search"]) as process:
        yield process


@pytest.fixture
def page(browser, dashboard, client):
    context = browser.new_context(viewport={"width": 1366, "height": 860}, base_url=dashboard.url)
    tab = context.new_page()
    tab.errors = []
    tab.dialogs = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()
    assert tab.errors == [], f"JavaScript errors on the page: {tab.errors}"


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def rows(page):
    return page.locator("#jobs > li.job")


def row(page, job_id):
    return page.locator(f'#jobs > li.job[data-id="{job_id}"]')


def make(queue, count, type="email", **data):
    return queue.create_many([(type, {"title": f"{type} job {i}", **data}) for i in range(count)])


def fail(queue, job, error=STACK):
    """A failed job as a worker leaves it: state, error text, failed_at and one attempt made."""
    job.set_state("failed")
    queue.client.hset(
        queue.keys.job(job.id), mapping={"error": error, "failed_at": str(int(time.time() * 1000)), "attempts": "1"}
    )


def finish(queue, job, result='{"sent": 3, "ok": true}', duration=1450):
    job.set_state("complete")
    queue.client.hset(queue.keys.job(job.id), mapping={"result": result, "duration": str(duration), "progress": "100"})


# --- lists, counts, live updates ------------------------------------------------------------------


def test_state_pages_list_jobs_and_counts_update_live(page, queue):
    jobs = make(queue, 9)
    for job in jobs[:2]:
        job.set_state("active")
    fail(queue, jobs[2])
    jobs[3].set_state("delayed")
    finish(queue, jobs[4])
    finish(queue, jobs[5])

    page.goto("/inactive")

    expect(rows(page)).to_have_count(3)
    for state, count in {"inactive": 3, "active": 2, "failed": 1, "delayed": 1, "complete": 2}.items():
        expect(page.locator(f'[data-count="{state}"]')).to_have_text(str(count))
    expect(page.locator("#list-title")).to_have_text("Queued jobs")
    screenshot(page, "inactive.png")

    queue.create("email", {"title": "arrives while watching"}).save()
    expect(page.locator('[data-count="inactive"]')).to_have_text("4")
    expect(rows(page)).to_have_count(4)
    expect(rows(page).last.locator(".job-title")).to_have_text("arrives while watching")

    page.click('nav.states a[data-state="failed"]')
    page.wait_for_url("**/failed")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator(".error-line")).to_have_text("TimeoutError: upstream took longer than 30s")
    jobs[2].set_state("inactive")
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()


def test_infinite_scroll_loads_more_jobs(page, queue):
    make(queue, 65)

    page.goto("/inactive")
    expect(rows(page)).to_have_count(20)

    for expected in (40, 60, 65):
        page.locator("#sentinel").scroll_into_view_if_needed()
        expect(rows(page)).to_have_count(expected)
    expect(page.locator("#sentinel")).to_have_text("65 jobs")
    ids = [int(i) for i in rows(page).evaluate_all("els => els.map(e => e.dataset.id)")]
    assert ids == sorted(ids) and len(set(ids)) == 65


def test_sort_order_and_type_filter(page, queue):
    for i in range(6):
        queue.create("video" if i % 3 == 0 else "email", {"title": f"job {i}"}).save()

    page.goto("/inactive")
    expect(rows(page)).to_have_count(6)
    expect(rows(page).first).to_have_attribute("data-id", "1")

    page.select_option("#order", "desc")
    expect(rows(page).first).to_have_attribute("data-id", "6")

    page.select_option("#type-filter", "video")
    expect(rows(page)).to_have_count(2)
    expect(rows(page).locator(".job-type")).to_have_text(["video", "video"])
    expect(rows(page).first).to_have_attribute("data-id", "4")
    assert "type=video" in page.url and "order=desc" in page.url

    page.reload()
    expect(page.locator("#type-filter")).to_have_value("video")
    expect(rows(page)).to_have_count(2)


def test_type_filter_learns_new_types_without_a_reload(page, queue):
    make(queue, 1, type="email")
    page.goto("/inactive")
    expect(rows(page)).to_have_count(1)
    make(queue, 1, type="report.pdf")
    expect(page.locator('#type-filter option[value="report.pdf"]')).to_have_count(1, timeout=20_000)


def test_search_box_finds_jobs_in_any_state(page, redis_server):
    searchable = Queue(redis=redis_server.url, search=True)
    try:
        welcome = searchable.create("email", {"title": "welcome tj"}).save()
        searchable.create("email", {"title": "monthly invoice"}).save()
        other = searchable.create("email", {"title": "welcome ana"}).save()
        fail(searchable, other)

        page.goto("/inactive")
        expect(rows(page)).to_have_count(2)
        page.fill("#search", "welcome")
        expect(page.locator("#list-title")).to_have_text("Search: welcome")
        expect(row(page, other.id).locator(".job-state")).to_have_text("Failed")  # not on this page before
        expect(rows(page)).to_have_count(2)
        found = sorted(int(i) for i in rows(page).evaluate_all("els => els.map(e => e.dataset.id)"))
        assert found == [welcome.id, other.id]

        page.fill("#search", "invoice")
        expect(rows(page)).to_have_count(1)
        page.fill("#search", "nothingmatches")
        expect(rows(page)).to_have_count(0)
        expect(page.locator("#empty-text")).to_contain_text("nothingmatches")

        page.press("#search", "Escape")
        expect(page.locator("#list-title")).to_have_text("Queued jobs")
        expect(rows(page)).to_have_count(2)
    finally:
        searchable.close()


# --- the job detail ---------------------------------------------------------------------------------


def test_detail_shows_live_progress_and_log_lines(page, queue):
    job = queue.create("video", {"title": "encode holiday.mp4", "size": 1080}).priority("high").attempts(3).save()
    job.set_state("active")

    page.goto("/active")
    row(page, job.id).locator(".job-main").click()
    detail = row(page, job.id).locator(".detail")
    expect(detail).to_be_visible()
    expect(detail.locator(".data")).to_contain_text('"size": 1080')
    expect(detail.locator(".priority-select")).to_have_value("-10")
    expect(detail.locator('[data-fact="attempts"]')).to_have_text("0 made of 3 · 3 left")
    progress = detail.locator('[data-fact="progress"] .progress')
    expect(progress).to_have_attribute("aria-valuenow", "0")

    job.progress(40, 100)
    job.log("decoded %d frames", 400)
    expect(progress).to_have_attribute("aria-valuenow", "40")
    expect(row(page, job.id).locator(".col-status .progress")).to_have_attribute("aria-valuenow", "40")
    expect(detail.locator(".log li")).to_have_text(["decoded 400 frames"])

    job.progress(85, 100, {"frame": 850})
    job.log("encoding pass 2")
    expect(progress).to_have_attribute("aria-valuenow", "85")
    expect(detail.locator('[data-fact="progress"] .pct')).to_have_text("85%")
    expect(detail.locator(".progress-data")).to_contain_text('"frame": 850')
    expect(detail.locator(".log li")).to_have_text(["decoded 400 frames", "encoding pass 2"])
    screenshot(page, "active-detail.png")

    row(page, job.id).locator(".job-main").click()
    expect(detail).to_have_count(0)


def test_detail_of_failed_and_complete_jobs(page, queue):
    failed, done = make(queue, 2)
    fail(queue, failed)
    finish(queue, done, duration=61_000)

    page.goto("/failed")
    row(page, failed.id).locator(".job-main").click()
    detail = row(page, failed.id).locator(".detail")
    expect(detail.locator("pre.error")).to_have_text(STACK)
    expect(detail.locator('[data-fact="failed_at"]')).to_be_visible()
    expect(detail.locator('[data-fact="attempts"]')).to_have_text("1 made of 1 · 0 left")
    screenshot(page, "failed-detail.png")

    page.goto("/complete")
    expect(row(page, done.id).locator(".col-status")).to_have_text("took 1m 1s")
    row(page, done.id).locator(".job-main").click()
    detail = row(page, done.id).locator(".detail")
    expect(detail.locator("pre.result")).to_contain_text('"ok": true')
    expect(detail.locator('[data-fact="duration"]')).to_have_text("1m 1s")
    expect(detail.locator(".block-error")).to_be_hidden()


# --- actions ------------------------------------------------------------------------------------------


def test_row_actions_remove_and_requeue(page, queue):
    first, second, third = make(queue, 3)
    for job in (first, second, third):
        fail(queue, job)

    page.goto("/failed")
    expect(rows(page)).to_have_count(3)

    row(page, first.id).locator("button.remove").click()
    expect(row(page, first.id)).to_have_count(0)
    expect(page.locator(".toast-success")).to_contain_text(f"Job {first.id} removed")
    assert not queue.client.exists(queue.keys.job(first.id))

    row(page, second.id).locator("button.requeue").click()
    expect(row(page, second.id)).to_have_count(0)
    wait_for(lambda: queue.get_job(second.id).state == "inactive", 5, message="requeued job")
    expect(page.locator('[data-count="inactive"]')).to_have_text("1")
    expect(page.locator('[data-count="failed"]')).to_have_text("1")


def test_detail_changes_priority_and_state(page, queue):
    job = make(queue, 1)[0]

    page.goto("/inactive")
    row(page, job.id).locator(".job-main").click()
    detail = row(page, job.id).locator(".detail")
    detail.locator(".priority-select").select_option("-15")
    wait_for(lambda: queue.get_job(job.id).priority() == -15, 5, message="priority -15")
    expect(row(page, job.id).locator(".job-priority")).to_have_text("critical")

    detail.locator(".state-select").select_option("delayed")
    wait_for(lambda: queue.get_job(job.id).state == "delayed", 5, message="state delayed")
    expect(row(page, job.id)).to_have_count(0)
    expect(page.locator('[data-count="delayed"]')).to_have_text("1")


def test_requeue_a_delayed_job_from_its_detail(page, queue):
    job = queue.create("email", {"title": "later"}).delay(3_600_000).save()

    page.goto("/delayed")
    expect(row(page, job.id).locator(".col-status")).to_contain_text("runs in")
    row(page, job.id).locator(".job-main").click()
    row(page, job.id).locator(".detail-requeue").click()
    wait_for(lambda: queue.get_job(job.id).state == "inactive", 5, message="requeued delayed job")
    expect(row(page, job.id)).to_have_count(0)


def test_bulk_actions_on_selected_rows(page, queue):
    jobs = make(queue, 5)
    for job in jobs:
        fail(queue, job)

    page.goto("/failed")
    expect(rows(page)).to_have_count(5)
    for job in jobs[:3]:
        row(page, job.id).locator(".job-check").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    page.click("#bulk-requeue")
    expect(rows(page)).to_have_count(2)
    wait_for(
        lambda: [queue.get_job(j.id).state for j in jobs] == ["inactive"] * 3 + ["failed"] * 2, 5, message="3 requeued"
    )
    expect(page.locator("#bulkbar")).to_be_hidden()

    page.check("#select-all")
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.select_option("#bulk-priority", "10")
    wait_for(lambda: [queue.get_job(j.id).priority() for j in jobs[3:]] == [10, 10], 5, message="priority low")
    expect(rows(page).locator(".job-priority")).to_have_text(["low", "low"])

    page.check("#select-all")
    page.click("#bulk-remove")
    expect(page.locator("#bulk-remove")).to_contain_text("Click again")
    assert all(queue.client.exists(queue.keys.job(j.id)) for j in jobs[3:])
    page.click("#bulk-remove")
    expect(rows(page)).to_have_count(0)
    wait_for(lambda: not any(queue.client.exists(queue.keys.job(j.id)) for j in jobs[3:]), 5, message="removed")


# --- chart and metrics -------------------------------------------------------------------------------


def test_overview_chart_has_a_y_axis_time_labels_and_honest_rates(page, queue):
    now = minute_with_room()
    queue.client.set(queue.keys.metric("complete", now), 12)
    queue.client.set(queue.keys.metric("complete", now - 5), 3)
    queue.client.set(queue.keys.metric("failed", now - 2), 4)
    finish(queue, make(queue, 1)[0])

    page.goto("/")

    expect(page.locator("#chart rect.complete")).to_have_count(2)
    expect(page.locator("#chart rect.failed")).to_have_count(1)
    expect(page.locator("#chart .bar")).to_have_count(60)
    expect(page.locator("#chart .bar").last.locator("title")).to_contain_text("12 complete, 0 failed")
    expect(page.locator("#chart text.tick-y")).to_have_text(["0", "5", "10", "15"])
    expect(page.locator("#chart text.tick-x")).to_have_count(6)
    expect(page.locator("#chart text.tick-x").last).to_have_text("now")
    # a young queue: the rates divide by the time since jobs began finishing, and say so
    expect(page.locator("#rate-60-sub")).to_contain_text("since jobs began finishing · 19 finished")
    expect(page.locator("#rate-5-sub")).to_contain_text("· 16 finished")
    expect(page.locator("#failed-60")).to_have_text("21%")
    expect(page.locator("#failed-60-sub")).to_have_text("4 failed · 15 completed")
    heights = page.locator("#chart rect.complete").evaluate_all("els => els.map(e => +e.getAttribute('height'))")
    assert heights[1] == pytest.approx(heights[0] * 4)
    screenshot(page, "overview-chart.png")


# --- escaping -----------------------------------------------------------------------------------------


def test_text_from_redis_is_never_markup(page, queue):
    evil_type = '<img src=x onerror="window.__xss=1">'
    evil_title = "<script>window.__xss=2</script>"
    job = queue.create(evil_type, {"title": evil_title, '<svg onload="window.__xss=3">': 1}).save()
    fail(queue, job, error='<img src=y onerror="window.__xss=4">\n  at <b>here</b>')
    job.log('<iframe src="javascript:window.__xss=5"></iframe>')

    page.goto("/failed")
    target = row(page, job.id)
    expect(target.locator(".job-title")).to_have_text(evil_title)
    expect(target.locator(".job-type")).to_have_text(evil_type)
    target.locator(".job-main").click()
    expect(target.locator(".log li")).to_have_text(['<iframe src="javascript:window.__xss=5"></iframe>'])
    expect(target.locator("pre.error")).to_contain_text('<img src=y onerror="window.__xss=4">')
    options = page.locator("#type-filter option").evaluate_all("els => els.map(e => [e.value, e.textContent])")
    assert [evil_type, evil_type] in options

    assert page.evaluate("window.__xss") is None
    assert page.locator("#jobs img, #jobs script, #jobs iframe, #jobs b, #jobs svg[onload]").count() == 0
    assert page.dialogs == []


# --- with a real worker ---------------------------------------------------------------------------------

TASKS = """
import os
import time

import redis

from pykue import Queue

queue = Queue(prefix="q")
gate = redis.Redis.from_url(os.environ["PYKUE_REDIS_URL"], decode_responses=True)


def wait_for_gate(step):
    deadline = time.monotonic() + 60
    while int(gate.get("e2e:gate") or 0) < step:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the test never opened step {step}")
        time.sleep(0.02)


@queue.task("render", bind=True)
def render(job, title, steps=2):
    for step in range(1, steps + 1):
        wait_for_gate(step)
        job.log("step %d of %d", step, steps)
        job.progress(step, steps + 1)
    wait_for_gate(steps + 1)
    return {"title": title, "steps": steps}


@queue.task("explode")
def explode(reason):
    raise RuntimeError(reason)
"""


@pytest.fixture
def worker(redis_server, client, tmp_path):
    import subprocess
    import sys

    (tmp_path / "e2e_tasks.py").write_text(TASKS)
    env = {**os.environ, "PYKUE_REDIS_URL": redis_server.url}
    process = subprocess.Popen(
        [sys.executable, "-m", "pykue", "worker", "-A", "e2e_tasks"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)


def post_job(page, dashboard, body):
    response = page.request.post(
        dashboard.url + "/job", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, response.text()
    return response.json()["id"]


def test_a_real_worker_moves_jobs_through_the_pages(page, dashboard, worker, queue):
    open_gate = lambda step: queue.client.set("e2e:gate", step)  # noqa: E731
    page.goto("/active")
    job_id = post_job(page, dashboard, {"type": "render", "data": {"title": "poster.png"}})

    target = row(page, job_id)
    expect(target).to_be_visible(timeout=20_000)
    target.locator(".job-main").click()
    progress = target.locator('[data-fact="progress"] .progress')
    expect(progress).to_have_attribute("aria-valuenow", "0")
    # the worker running it, by host:pid, a link to it on the Workers page (its full workerId as the title)
    expect(target.locator('[data-fact="workerId"] a')).to_have_attribute("title", re.compile(r"^pykue:.*:render$"))

    open_gate(1)
    expect(progress).to_have_attribute("aria-valuenow", "33")
    expect(target.locator(".log li")).to_have_text(["step 1 of 2"])
    open_gate(2)
    expect(progress).to_have_attribute("aria-valuenow", "66")
    expect(target.locator(".log li")).to_have_text(["step 1 of 2", "step 2 of 2"])
    open_gate(3)
    expect(target.locator(".detail-notice")).to_contain_text("This job finished in")  # not pulled away
    expect(page.locator('[data-count="complete"]')).to_have_text("1")
    expect(page.locator('[data-count="active"]')).to_have_text("0")
    target.locator(".detail-notice button").click()
    expect(target).to_have_count(0)

    page.goto("/complete")
    row(page, job_id).locator(".job-main").click()
    expect(row(page, job_id).locator("pre.result")).to_contain_text('"title": "poster.png"')
    expect(row(page, job_id).locator(".col-status")).to_contain_text("took")

    failing = post_job(page, dashboard, {"type": "explode", "data": {"reason": "disk full"}})
    page.goto("/failed")
    expect(row(page, failing).locator(".error-line")).to_contain_text("disk full", timeout=20_000)
    row(page, failing).locator(".job-main").click()
    expect(row(page, failing).locator("pre.error")).to_contain_text("Traceback")
    page.goto("/")
    expect(page.locator("#chart rect.complete")).to_have_count(1)
    expect(page.locator("#failed-60-sub")).to_have_text("1 failed · 1 completed")


# --- mounted under a path ---------------------------------------------------------------------------

MOUNTED = """
import sys
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.wrappers import Response
from pykue.web import create_app

app = DispatcherMiddleware(Response("the host application"), {"/admin/queue": create_app(sys.argv[1])})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(f"Running on http://127.0.0.1:{server.server_port}/admin/queue", flush=True)
server.serve_forever()
"""


def test_mounted_under_a_path_every_request_stays_under_it(browser, redis_server, client, queue):
    import sys

    jobs = make(queue, 3)
    for job in jobs:
        fail(queue, job)
    with DashboardProcess([], command=[sys.executable, "-c", MOUNTED, redis_server.url]) as process:
        context = browser.new_context(viewport={"width": 1366, "height": 860})
        try:
            tab = context.new_page()
            requested = []
            tab.on("request", lambda request: requested.append(request.url))
            tab.goto(process.url + "/failed")
            expect(rows(tab)).to_have_count(3)
            row(tab, jobs[0].id).locator(".job-main").click()
            expect(row(tab, jobs[0].id).locator("pre.error")).to_have_text(STACK)
            row(tab, jobs[1].id).locator("button.requeue").click()
            expect(rows(tab)).to_have_count(2)
            tab.click('nav.states a[data-state="inactive"]')
            tab.wait_for_url("**/admin/queue/inactive")
            expect(rows(tab)).to_have_count(1)
            tab.click('nav.pages a[data-page="overview"]')  # the Overview and its API calls stay under it too
            tab.wait_for_url("**/admin/queue/")
            expect(tab.locator("#chart .bar")).to_have_count(60)
            expect(tab.locator('#types tr[data-type="email"] .state-failed')).to_have_text("2")
            assert tab.locator(".toast-error").count() == 0
        finally:
            context.close()
    assert requested and all(url.startswith(process.url + "/") for url in requested), [
        url for url in requested if not url.startswith(process.url + "/")
    ]


# --- screens ------------------------------------------------------------------------------------------


def test_phone_layout_has_no_horizontal_scroll(browser, dashboard, client, queue):
    make(queue, 4)
    fail(queue, make(queue, 1)[0])
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, base_url=dashboard.url
    )
    try:
        tab = context.new_page()
        tab.goto("/inactive")
        expect(rows(tab)).to_have_count(4)
        expect(tab.locator("nav.states")).to_be_visible()
        width = tab.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal overflow: {width}"
        rows(tab).first.locator(".job-main").click()
        expect(rows(tab).first.locator(".detail")).to_be_visible()
        width = tab.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal overflow with the detail open: {width}"
        screenshot(tab, "phone.png")
        for path in ("/", "/workers"):  # the wide types table scrolls inside its card
            tab.goto(path)
            expect(tab.locator("#live")).not_to_have_class("live offline")
            tab.wait_for_timeout(300)
            width = tab.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"horizontal overflow on {path}: {width}"
    finally:
        context.close()


def test_overview_screenshot(page, queue):
    """A busy queue, for the eye (tests/artifacts/dashboard.png; docs/dashboard.png is a copy)."""
    titles = [
        "Welcome email for ana@example.com",
        "Encode holiday.mp4 to 1080p",
        "Monthly invoice #2291",
        "Sync CRM contacts",
        "Resize avatar 512px",
        "Nightly report for ACME",
    ]
    types = ["email", "video:encode", "invoice.pdf", "crm-sync", "image", "report"]
    priorities = ["high", "normal", "critical", "normal", "low", "medium"]
    made = [
        queue.create(types[i % 6], {"title": titles[i % 6], "n": i}).priority(priorities[i % 6]).attempts(3).save()
        for i in range(40)
    ]
    started = int(time.time() * 1000) - 95_000
    for i, job in enumerate(made[:7]):
        job.set_state("active")
        job.progress((i * 23 + 17) % 100, 100)
        queue.client.hset(
            queue.keys.job(job.id),
            mapping={
                "started_at": str(started + i * 9000),
                "workerId": f"pykue:web-1:{4100 + i % 3}:{job.type}:{i + 1}",
            },
        )
    for job in made[7:11]:
        fail(queue, job)
    for job in made[11:30]:
        finish(queue, job, duration=400 + job.id * 37)
    made[30].set_state("delayed")
    now = minute_with_room()
    for minute in range(now - 59, now + 1):
        queue.client.set(queue.keys.metric("complete", minute), 24 + (minute * 7) % 13 + (minute % 5) * 2)
        if minute % 4 == 0:
            queue.client.set(queue.keys.metric("failed", minute), 1 + minute % 3)
    queue.client.set(queue.keys.work_time, 3_725_000)

    page.goto("/active")
    expect(rows(page)).to_have_count(7)
    rows(page).nth(1).locator(".job-main").click()
    made[1].log("downloaded source (212 MB)")
    made[1].log("encoding pass 1 of 2")
    expect(rows(page).nth(1).locator(".log li")).to_have_count(2)
    screenshot(page, "jobs.png")
    page.goto("/")
    expect(page.locator("#chart rect.complete")).to_have_count(60)
    expect(page.locator("#types tbody tr")).to_have_count(6)
    screenshot(page, "dashboard.png")


# --- the process: binding and auth ---------------------------------------------------------------------


def test_binds_to_localhost_by_default(dashboard):
    assert dashboard.url.startswith("http://127.0.0.1:")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_dns_rebound_name_gets_400_from_the_real_process(dashboard, queue):
    job = make(queue, 1)[0]
    port = dashboard.url.rsplit(":", 1)[1]
    rebound = {
        "Host": f"evil.example:{port}",
        "Origin": f"http://evil.example:{port}",
        "Sec-Fetch-Site": "same-origin",
        "X-Requested-With": "XMLHttpRequest",
    }

    for path in ("/", "/stats", "/jobs/0..10", f"/job/{job.id}", "/static/dashboard.js"):
        assert status_of(dashboard.url + path, rebound) == 400, path
        assert status_of(dashboard.url + path, {"Host": f"localhost:{port}"}) == 200, path
    request = urllib.request.Request(f"{dashboard.url}/job/{job.id}", method="DELETE", headers=rebound)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400 and "not allowed" in json.loads(refused.value.read())["error"]
    assert queue.client.exists(queue.keys.job(job.id))


def test_by_name_the_page_works_and_its_scripts_may_use_kues_requeue_get(browser, dashboard, client, queue):
    jobs = make(queue, 2)
    for job in jobs:
        fail(queue, job)
    port = dashboard.url.rsplit(":", 1)[1]
    context = browser.new_context(base_url=f"http://localhost:{port}")
    try:
        tab = context.new_page()
        tab.goto("/failed")
        expect(rows(tab)).to_have_count(2)
        expect(tab.locator('[data-count="failed"]')).to_have_text("2")

        # What Kue's own UI does: a same-origin script GETs /inactive/:id.
        answer = tab.evaluate("async (id) => (await fetch(`/inactive/${id}`)).json()", jobs[0].id)
        assert answer == {"message": f"job {jobs[0].id} inactive"}
        wait_for(lambda: queue.get_job(jobs[0].id).state == "inactive", 5, message="requeued by GET")
        expect(tab.locator('[data-count="inactive"]')).to_have_text("1")

        # An <img> on another page (here an opaque origin) cannot.
        other = context.new_page()
        other.set_content("<p>mail</p>")
        loaded = other.evaluate(
            """(src) => new Promise((done) => {
            const img = new Image(); img.onload = () => done('load'); img.onerror = () => done('error');
            img.src = src; })""",
            f"{dashboard.url}/inactive/{jobs[1].id}",
        )
        assert loaded == "error"
        assert queue.get_job(jobs[1].id).state == "failed"
    finally:
        context.close()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_auth_protects_pages_api_and_assets(browser, redis_server, client, how):
    args, env = ["-r", redis_server.url], {}
    if how == "flag":
        args += ["--auth", "admin:pa:ss"]
    else:
        env["PYKUE_DASHBOARD_AUTH"] = "admin:pa:ss"
    with DashboardProcess(args, env=env) as process:
        assert "(basic auth)" in process.output
        for path in ("/", "/stats", "/static/dashboard.js"):
            assert status_of(process.url + path) == 401
            assert status_of(process.url + path, basic("admin", "wrong")) == 401
            assert status_of(process.url + path, basic("admin", "pa:ss")) == 200

        context = browser.new_context(base_url=process.url, http_credentials={"username": "admin", "password": "pa:ss"})
        try:
            tab = context.new_page()
            tab.goto("/inactive")
            expect(tab.locator("#live")).not_to_have_class("live offline")
            expect(tab.locator('[data-count="inactive"]')).to_have_text("0")
        finally:
            context.close()


def test_an_open_page_rides_out_a_redis_outage(browser, tmp_path):
    # Given a dashboard page open on its own Redis, with a job queued
    servers = [RedisServer(tmp_path / "redis").start()]
    url = servers[0].url
    Queue(url).create("email", {"to": "tj"}).save()
    try:
        with DashboardProcess(["-r", url]) as process:
            context = browser.new_context(base_url=process.url)
            tab = context.new_page()
            tab.errors = []
            tab.on("pageerror", lambda error: tab.errors.append(str(error)))
            try:
                tab.goto("/")
                expect(tab.locator('[data-count="inactive"]')).to_have_text("1")
                # (with nothing finished in the last hour, its complete/failed bar is a thin empty bar)
                expect(tab.locator("#ratio-60")).to_have_class("ratio ratio-empty")
                assert tab.locator("#ratio-60").bounding_box()["height"] <= 8
                # When Redis goes away, the API answers 503: the page says it reconnects, and no error toasts
                servers[0].stop()
                expect(tab.locator("#live")).to_have_class("live offline")
                expect(tab.locator("#live .live-text")).to_have_text("Reconnecting…")
                screenshot(tab, "redis-outage.png")
                assert tab.locator(".toast-error").count() == 0
                # And once a Redis answers on that port again, the page goes live and shows what it holds
                servers.append(RedisServer(tmp_path / "redis", port=servers[0].port).start())
                Queue(url).create_many([("email", {"n": 1}), ("email", {"n": 2})])
                expect(tab.locator("#live")).not_to_have_class("live offline")
                expect(tab.locator('[data-count="inactive"]')).to_have_text("2")
            finally:
                context.close()
    finally:
        for server in servers:
            server.stop()
    assert tab.errors == []
