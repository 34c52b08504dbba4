"""Forgery from a real browser: a page on another site tries every way a page can reach the dashboard.

The attacker's page is served from ``http://localhost:<port>`` while the dashboard answers on
``http://127.0.0.1:<port>``: two hosts, so to Chromium two sites. The page posts forms, loads
images, sends no-cors fetches and tries PUT and DELETE; Redis must not change at all.
"""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.e2e.test_dashboard_browser import dashboard, fail, make  # noqa: F401  (dashboard: a fixture)
from tests.redis_probe import snapshot

pytestmark = pytest.mark.browser

ATTACKS = """
async ({base, id}) => {
  const tries = [
    () => fetch(`${base}/job`, {method: 'POST', mode: 'no-cors', body: '{"type": "email"}'}),
    () => fetch(`${base}/job`, {method: 'POST', mode: 'no-cors', body: new URLSearchParams({type: 'email'})}),
    () => fetch(`${base}/job`, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                body: '{"type": "email"}'}),
    () => fetch(`${base}/inactive/${id}`, {mode: 'no-cors'}),
    () => fetch(`${base}/job/${id}`, {method: 'DELETE'}),
    () => fetch(`${base}/job/${id}/state/complete`, {method: 'PUT'}),
    () => fetch(`${base}/job/${id}/priority/-15`, {method: 'PUT', mode: 'no-cors'}),
    () => new Promise((done) => { const img = new Image(); img.onload = img.onerror = done;
                                  img.src = `${base}/inactive/${id}`; }),
  ];
  for (const attempt of tries) { try { await attempt(); } catch (e) { /* refused by CORS: fine */ } }
  return 'done';
}
"""

FORM = """<!doctype html><html><body>
<form id="f" method="POST" action="{base}/job" enctype="{enctype}">
  <input type="hidden" name='{{"type": "email", "x": "' value='"}}'>
</form>
<script>document.getElementById('f').submit();</script>
</body></html>"""


class EvilSite:
    """A page server on another host name than the dashboard's: ``localhost`` instead of ``127.0.0.1``."""

    def __init__(self, pages: dict[str, str]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = pages.get(self.path, "<p>a mail</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EvilSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_page_on_another_site_changes_nothing(browser, dashboard, client, queue):
    assert "127.0.0.1" in dashboard.url
    job = make(queue, 1)[0]
    fail(queue, job)
    pages = {
        f"/form-{kind}": FORM.format(base=dashboard.url, enctype=enctype)
        for kind, enctype in (
            ("text", "text/plain"),
            ("urlencoded", "application/x-www-form-urlencoded"),
            ("multipart", "multipart/form-data"),
        )
    }
    before = snapshot(client)

    with EvilSite(pages) as evil:
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(evil.url + "/mail")
            assert tab.evaluate(ATTACKS, {"base": dashboard.url, "id": job.id}) == "done"
            for path in pages:
                answer = tab.goto(evil.url + path)
                tab.wait_for_url(f"{dashboard.url}/job")  # the form was sent, and answered
                assert tab.evaluate("document.body.innerText").count("refused") == 1, answer
        finally:
            context.close()

    assert snapshot(client) == before
    assert queue.get_job(job.id).state == "failed"
