"""The http condition against a real local HTTP server: status and body."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from labctl.cluster_probes import build
from labctl.wait import wait_until


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        # Like an API server without anonymous access: every path answers 401, /ok answers 200.
        code = 200 if self.path == "/ok" else 401
        body = b"guestbook entry: hello" if code == 200 else b"Unauthorized"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _wait(url: str, expect: dict[str, object]) -> bool:
    probe, predicate = build("http", {"url": url, "expect": expect})
    return wait_until(probe, predicate, timeout_s=0.5, interval_s=0.1).met


def test_status_and_body(server_url: str) -> None:
    assert _wait(f"{server_url}/ok", {})
    assert _wait(f"{server_url}/ok", {"body_contains": "hello"})
    assert not _wait(f"{server_url}/ok", {"body_contains": "goodbye"})
    assert not _wait(f"{server_url}/denied", {})
    assert _wait(f"{server_url}/denied", {"status": 401})
