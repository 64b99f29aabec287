import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_apiserver import FakeApiServer, api_handler, write_kubeconfig


@pytest.fixture
def labctl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("LABCTL_HOME", str(home))
    yield home


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


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[FakeApiServer]:
    kubeconfig = tmp_path / "fake-api.kubeconfig"
    api = FakeApiServer(kubeconfig)
    server = ThreadingHTTPServer(("127.0.0.1", 0), api_handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    write_kubeconfig(kubeconfig, f"http://127.0.0.1:{server.server_address[1]}")
    yield api
    server.shutdown()
    server.server_close()
