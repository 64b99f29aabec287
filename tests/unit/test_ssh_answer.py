"""What a node's boot wait says when SSH does not answer: the last try's reason, which tells a network
fault (timed out) from an sshd not started (refused) or something else on port 22."""

import socket
from collections.abc import Iterator

import pytest
from loopback import serve_each

from labctl.providers.local.nspawn import ssh_answer


@pytest.fixture
def server() -> Iterator[tuple[socket.socket, list[bytes]]]:
    """A server on loopback that sends each connection the next greeting of the list."""
    greetings: list[bytes] = []

    def greet(connection: socket.socket) -> None:
        if greetings:
            connection.sendall(greetings.pop(0))

    listener = serve_each(greet)
    yield listener, greetings
    listener.close()


def test_an_ssh_server_answers(server: tuple[socket.socket, list[bytes]]) -> None:
    listener, greetings = server
    greetings.append(b"SSH-2.0-OpenSSH_9.2p1\r\n")
    assert ssh_answer("127.0.0.1", listener.getsockname()[1]) is None


def test_something_else_on_the_port_is_named(server: tuple[socket.socket, list[bytes]]) -> None:
    listener, greetings = server
    greetings.append(b"HTTP/1.1 400\r\n")
    assert ssh_answer("127.0.0.1", listener.getsockname()[1]) == "answered without an SSH banner (b'HTTP')"


def test_a_closed_port_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    assert ssh_answer("127.0.0.1", port) == "Connection refused"


def test_a_server_that_never_answers_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        assert ssh_answer("127.0.0.1", silent.getsockname()[1], timeout_s=0.2) == "timed out"
