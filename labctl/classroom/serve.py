"""The scoreboard served on localhost for the projector: rebuilt from the labs' results on every request."""

import http.server
from collections.abc import Callable
from typing import Any

from labctl.classroom import record, scoreboard, scoreboard_files

REFRESH_S = 5

PAGES: dict[str, tuple[str, Callable[[scoreboard.Scoreboard], str]]] = {
    "/": ("text/html; charset=utf-8", lambda board: scoreboard_files.to_html(board, refresh_s=REFRESH_S)),
    "/scoreboard.csv": ("text/csv; charset=utf-8", scoreboard_files.to_csv),
    "/junit.xml": ("application/xml; charset=utf-8", scoreboard_files.to_junit),
}


def handler_for(class_name: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = PAGES.get(self.path.split("?", 1)[0])
            if page is None:
                self.send_error(404, "the scoreboard is at /, /scoreboard.csv and /junit.xml")
                return
            content_type, render = page
            body = render(scoreboard.build(record.load(class_name))).encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def serve(class_name: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve until interrupted; ON_READY gets the URL once the socket listens (port 0: any free one)."""
    record.load(class_name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler_for(class_name))
    try:
        on_ready(f"http://127.0.0.1:{server.server_address[1]}/")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
