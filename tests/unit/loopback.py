"""A TCP server on loopback that hands each connection it accepts to a function (in a thread of its own)."""

import socket
import threading
from collections.abc import Callable


def serve_each(handle: Callable[[socket.socket], None]) -> socket.socket:
    """The listening socket; close it to stop serving. Each connection is closed after handle returns."""
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_each() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                handle(connection)

    threading.Thread(target=accept_each, daemon=True).start()
    return listener
