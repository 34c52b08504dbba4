"""The browser every e2e test module shares: one headless Chromium per session.

Playwright's sync API allows one instance per thread, so the fixture lives here rather than
in a test module that others import it from (each import would start its own).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.e2e.dashboard_process import DashboardProcess
from tests.helpers import IN_CI

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "headless Chromium is not installed: `apt-get install chromium` (Debian/Ubuntu), "
    "or point PYKUE_CHROMIUM at a Chrome/Chromium binary"
)


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("PYKUE_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if not executable:
        skip_or_fail(INSTALL_HINT)
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the Python package playwright is missing: pip install -e '.[dev]'")
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def dashboard(redis_server):
    """``pykue dashboard`` as a user starts it, on the session's private Redis."""
    with DashboardProcess(["-r", redis_server.url]) as process:
        yield process


@pytest.fixture
def page(browser, dashboard, client):
    """A fresh tab on ``dashboard`` (Redis flushed by ``client``); a JavaScript error on the page
    fails the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=dashboard.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
