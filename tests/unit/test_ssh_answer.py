"""What a node's boot wait says when SSH does not answer: the last try's reason, which tells a network
fault (timed out) from an sshd not started (refused) or something else on port 22; where the host sends
the node's traffic; and the last line of the node's console."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import serve_each

from labctl.errors import InfraError
from labctl.providers.local import nspawn
from labctl.providers.local.hostnet import route_to
from labctl.providers.local.nspawn import NodeSpec, ssh_answer, wait_ssh


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


def test_the_host_names_where_it_sends_a_node_s_traffic() -> None:
    # Loopback: routed through lo, and no neighbour entry (only a bridge's nodes have one).
    assert route_to("127.0.0.1") == "the host sends it through lo, no neighbour entry"


def test_an_address_the_host_cannot_route_is_said_in_words() -> None:
    said = route_to("not-an-address")
    assert said.startswith("the host has no route to it (") and said.endswith("), no neighbour entry")
    assert "\n" not in said


def test_a_node_that_never_answers_ssh_is_reported_with_the_host_path_and_its_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = NodeSpec(lab="t", name="worker-1", ip="127.0.0.1", prefixlen=8, gateway="127.0.0.1", bridge="lo", base=tmp_path)
    # What systemd writes on a node's console, a terminal: status lines in colour.
    spec.log_file.write_text("Starting labctl-host0.service...\n[\x1b[0;1;31mFAILED\x1b[0m] Failed to start labctl-host0.service.\n\n")
    monkeypatch.setattr(nspawn, "read_pid", lambda _spec: 4242)
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    monkeypatch.setattr(nspawn, "ssh_answer", lambda host: ssh_answer(host, port))
    with pytest.raises(InfraError) as raised:
        wait_ssh(spec, deadline_s=0.1)
    message = str(raised.value)
    assert "last try: Connection refused" in message
    assert "the host sends it through lo, no neighbour entry" in message
    assert "console: [FAILED] Failed to start labctl-host0.service." in message
    assert "\n" not in message
