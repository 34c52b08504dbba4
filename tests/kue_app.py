"""Node Kue's own Express app (``kue.app``) and pykue's dashboard, each on a real HTTP port.

Both serve the same Redis, so a test can send one request to each and compare the answers.
Requests go out as raw bytes (:func:`send`), header for header as the client under test
writes them: what reaches the server is exactly what supertest or curl would send.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import make_server

KUE_APP = """
const kue = require('kue');
const payload = JSON.parse(process.argv[2]);
const queue = kue.createQueue({ prefix: 'q', redis: payload.redis, disableSearch: !payload.search });
const server = kue.app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
});
process.stdin.on('end', () => { server.close(); queue.shutdown(500, () => process.exit(0)); });
process.stdin.resume();
setTimeout(() => process.exit(3), 60000);
"""


def serve_kue_app(kue_node, tmp_path: Path, search: bool = False) -> Iterator[str]:
    """Run ``kue.app`` on the kue_node fixture's Redis; yields its base URL."""
    script = tmp_path / "kue_app.js"
    script.write_text(KUE_APP)
    env = {**os.environ, "NODE_PATH": str(kue_node.node_modules)}
    payload = json.dumps({"redis": kue_node.redis, "search": search})
    process = subprocess.Popen(
        [kue_node.node, str(script), payload],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        yield f"http://127.0.0.1:{json.loads(line)['port']}"
    finally:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_wsgi(app) -> Iterator[str]:
    """Serve a WSGI app (pykue's dashboard) on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def kue_http(base, method, path, body=None, headers=None):
    """A urllib request (JSON body when given): (status, text)."""
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def media_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";")[0].strip() if value else None


class _Replay(io.BytesIO):
    def makefile(self, *args, **kwargs):
        return self


def send(base: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> Answer:
    """Send one HTTP/1.1 request as these exact bytes (``Connection: close``) and read the answer."""
    host, port = base.split("://", 1)[1].rsplit(":", 1)
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = http.client.HTTPResponse(_Replay(b"".join(chunks)), method=method)  # type: ignore[arg-type]
    response.begin()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
