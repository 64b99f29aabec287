"""A Kubernetes API over plain HTTP on loopback, for the unit tests of what reads it."""

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit


class FakeApiServer:
    """A Kubernetes API over plain HTTP on loopback: each path answers what `routes` holds for it.

    A route is a JSON-able body (200), a (status, body) pair, or for a watch (?watch=true)
    a list of events streamed one JSON line each. `requests` keeps each (path, query).
    """

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.routes: dict[str, object] = {}
        self.watches: dict[str, list[dict[str, object]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.headers: list[dict[str, str]] = []


def write_kubeconfig(path: Path, server: str) -> None:
    """A token kubeconfig for SERVER (plain HTTP on loopback)."""
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        f"clusters: [{{name: lab, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: admin, user: {token: not-a-secret}}]\n"
        "contexts: [{name: lab, context: {cluster: lab, user: admin}}]\n"
    )


def api_handler(api: FakeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            api.requests.append((url.path, query))
            api.headers.append(dict(self.headers.items()))
            if query.get("watch") == "true":
                events = api.watches.get(url.path, [])
                body = b"".join(json.dumps(e).encode() + b"\n" for e in events)
                self._answer(200, body)
                return
            route = api.routes.get(url.path)
            status, payload = route if isinstance(route, tuple) else (200 if route is not None else 404, route or {"kind": "Status"})
            self._answer(status, json.dumps(payload).encode())

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    return Handler
