"""The HA topology's API load balancer: roles/api_lb's HAProxy configuration, rendered from the role's
template with test values and run by the real haproxy binary (scripts/setup.sh installs it) in front of
two local TLS backends that, like API servers, answer /readyz only to a client certificate.

Round robin over ready backends; a backend whose /readyz fails is taken out; a connection a backend
refuses is retried on the other one (the client sees no error); a backend comes back only after `rise`
good checks. The stats listener's CSV is read with labctl's own parser (what `labctl status` shows)."""

import datetime
import itertools
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import jinja2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labctl import api_lb_stats

REPO = Path(__file__).resolve().parents[2]
BACKENDS = {"controller-1": "127.0.0.2", "controller-2": "127.0.0.3"}
RISE = 2
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _issue(ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, cn: str, usage: x509.ObjectIdentifier,
           sans: list[x509.GeneralName]) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), _pem(key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files roles/api_lb puts in api_lb_config_dir, and the API servers' certificate (as roles/pki makes it)."""
    directory = tmp_path_factory.mktemp("api-lb-pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.datetime.now(datetime.UTC)
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    sans = [x509.DNSName("kubernetes"), *(x509.IPAddress(ip_address(a)) for a in ["127.0.0.1", *BACKENDS.values()])]
    cert, key = _issue(ca_key, ca_name, "kube-apiserver", ExtendedKeyUsageOID.SERVER_AUTH, sans)
    (directory / "apiserver.crt").write_bytes(cert)
    (directory / "apiserver.key").write_bytes(key)
    cert, key = _issue(ca_key, ca_name, "labctl:api-lb-health", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    (directory / "api-lb-health.pem").write_bytes(cert + key)
    return directory


class Backend:
    """An API server stand-in: /readyz answers 200 when ready, 503 when not, 401 without a client
    certificate; /who names the backend and says how many good checks it had answered by then."""

    def __init__(self, address: str, port: int, pki: Path) -> None:
        self.address, self.port, self.pki = address, port, pki
        self.ready = True
        self.health_clients: set[str] = set()
        self.good_checks = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/readyz":
                    peer = self.connection.getpeercert() or {}
                    subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
                    backend.health_clients.add(str(subject.get("commonName", "")))
                    code = 401 if not peer else (200 if backend.ready else 503)
                    backend.good_checks += code == 200
                    body = b"ok" if code == 200 else b"not ready"
                else:
                    code, body = 200, f"{backend.address} {backend.good_checks}".encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki / "apiserver.crt", self.pki / "apiserver.key")
        context.load_verify_locations(self.pki / "ca.crt")
        context.verify_mode = ssl.CERT_OPTIONAL
        server = ThreadingHTTPServer((self.address, self.port), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server = server

    def stop(self) -> None:
        """Close the listening socket: new connections are refused, like a killed API server's."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def render(pki: Path, lb_port: int, backend_port: int, stats_port: int, **overrides: Any) -> str:
    """roles/api_lb/templates/haproxy.cfg.j2 with the role's defaults for the health checks, short intervals,
    no chroot or user switch (the test is not root on every host), logs to stderr."""
    values: dict[str, Any] = {
        "api_lb_port": lb_port, "api_lb_backend_port": backend_port, "api_lb_backends": BACKENDS,
        "api_lb_health_path": "/readyz", "api_lb_config_dir": str(pki),
        "api_lb_check_interval_ms": 200, "api_lb_check_timeout_ms": 1000, "api_lb_connect_timeout_ms": 1000,
        "api_lb_fall": 3, "api_lb_rise": RISE, "api_lb_retries": 3, "api_lb_idle_timeout": "30s",
        "api_lb_backend_verifyhost": "kubernetes", "api_lb_stats_address": "127.0.0.1", "api_lb_stats_port": stats_port,
        "api_lb_chroot": "", "api_lb_user": "", "api_lb_log_target": "stderr format raw local0",
    }
    values.update(overrides)
    source = (REPO / "roles/api_lb/templates/haproxy.cfg.j2").read_text()
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True).from_string(source).render(values)


class Lab:
    def __init__(self, lb_port: int, stats_port: int, backends: dict[str, Backend], pki: Path) -> None:
        self.lb_port, self.stats_port, self.backends, self.pki = lb_port, stats_port, backends, pki

    def who(self) -> tuple[str, int]:
        """One request on a new connection through the load balancer: which backend answered, and after how many good checks."""
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        with urllib.request.urlopen(f"https://127.0.0.1:{self.lb_port}/who", context=context, timeout=5) as response:
            address, checks = response.read().decode().split()
        return address, int(checks)

    def states(self) -> dict[str, str]:
        found = api_lb_stats.backends("127.0.0.1", self.stats_port)
        assert "backends" in found, found
        return {BACKENDS[b["name"]]: b["state"] for b in found["backends"]}

    def wait_state(self, address: str, state: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (seen := self.states()[address]) != state:
            assert time.monotonic() < deadline, f"{address} stayed {seen}, never {state}"
            time.sleep(0.05)


@pytest.fixture
def start_lab(pki: Path, tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    started: list[tuple[subprocess.Popen[bytes], dict[str, Backend]]] = []

    def start(checked: bool = True, **overrides: Any) -> Lab:
        """HAProxy in front of both backends; with `checked`, once each backend passed a health check
        (before its first check a server is in rotation as "UP 1/<fall>", stats check "Initializing")."""
        backend_port, lb_port, stats_port = _free_port(), _free_port(), _free_port()
        backends = {address: Backend(address, backend_port, pki) for address in BACKENDS.values()}
        config = tmp_path / "haproxy.cfg"
        config.write_text(render(pki, lb_port, backend_port, stats_port, **overrides))
        # The role's `validate:` step.
        valid = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
        assert valid.returncode == 0, valid.stderr
        for backend in backends.values():
            backend.start()
        lb = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append((lb, backends))
        lab = Lab(lb_port, stats_port, backends, pki)
        deadline = time.monotonic() + 10
        while True:
            try:
                states = lab.states().values()
                if all(s == "UP" for s in states) or (not checked and all(s.startswith("UP") for s in states)):
                    return lab
            except (AssertionError, KeyError):
                pass
            assert lb.poll() is None, "haproxy exited"
            assert time.monotonic() < deadline, "haproxy never reported both backends up"
            time.sleep(0.1)

    yield start
    for lb, backends in started:
        lb.kill()
        lb.wait()
        for backend in backends.values():
            backend.stop()


def test_haproxy_is_installed() -> None:
    assert Path(HAPROXY).exists(), "haproxy is missing: scripts/setup.sh installs it (apt-get install haproxy)"


def test_round_robin_over_ready_backends_checked_with_the_client_certificate(start_lab: Callable[..., Lab]) -> None:
    lab = start_lab()
    answers = [lab.who()[0] for _ in range(10)]
    assert sorted(answers) == sorted(list(BACKENDS.values()) * 5)
    assert all(a != b for a, b in itertools.pairwise(answers)), answers
    for backend in lab.backends.values():
        assert backend.health_clients == {"labctl:api-lb-health"}
    found = api_lb_stats.backends("127.0.0.1", lab.stats_port)
    assert [(b["name"], b["state"]) for b in found["backends"]] == [(name, "UP") for name in BACKENDS]


def test_a_backend_whose_readyz_fails_is_taken_out(start_lab: Callable[..., Lab]) -> None:
    lab = start_lab()
    first, second = BACKENDS.values()
    lab.backends[first].ready = False
    lab.wait_state(first, "DOWN")
    assert {lab.who()[0] for _ in range(10)} == {second}


def test_a_refused_connection_is_retried_on_the_next_backend(start_lab: Callable[..., Lab]) -> None:
    # Checks every 60 s: only the retry on another backend can keep the client from an error.
    lab = start_lab(checked=False, api_lb_check_interval_ms=60000)
    first, second = BACKENDS.values()
    lab.backends[first].stop()
    assert lab.states()[first].startswith("UP")
    answers = [lab.who()[0] for _ in range(10)]
    assert set(answers) == {second}
    # The refused connection took the backend out at once (observe layer4), checks had no part in it.
    assert lab.states()[first] == "DOWN"


def test_a_restarted_backend_gets_clients_only_after_rise_good_checks(start_lab: Callable[..., Lab]) -> None:
    lab = start_lab()
    first, second = BACKENDS.values()
    backend = lab.backends[first]
    backend.stop()
    lab.wait_state(first, "DOWN")
    # Listening again but not ready (an API server still running its start-up hooks): no clients.
    backend.ready = False
    backend.start()
    time.sleep(1)
    assert {lab.who()[0] for _ in range(10)} == {second}
    backend.good_checks = 0
    backend.ready = True
    deadline = time.monotonic() + 10
    while (answer := lab.who())[0] != first:
        assert time.monotonic() < deadline, "the ready backend never got clients back"
    assert answer[1] >= RISE, f"a client reached {first} after only {answer[1]} good checks"


def test_stats_that_do_not_answer_are_an_error_not_an_exception() -> None:
    found = api_lb_stats.backends("127.0.0.1", _free_port(), timeout=1)
    assert "backends" not in found and found["error"].startswith("load balancer stats unavailable"), found


def test_status_shows_each_api_server_in_the_load_balancer(
    start_lab: Callable[..., Lab], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labctl.inventory import Inventory, Node
    from labctl.lab import Lab as LabDir
    from labctl.status import collect

    lab = start_lab()
    lab.backends[BACKENDS["controller-2"]].ready = False
    lab.wait_state(BACKENDS["controller-2"], "DOWN")
    monkeypatch.setenv("LABCTL_HOME", str(tmp_path / "home"))
    lab_dir = LabDir("hap")
    lab_dir.create()
    lab_dir.update_state(provider="local", phase="ready")
    nodes = [Node(name, "controller", address, address) for name, address in BACKENDS.items()]
    # The stats listen on loopback here; on a lab, on the api-lb node's address.
    Inventory("hap", "local", [*nodes, Node("api-lb", "api_lb", "127.0.0.1", "127.0.0.1")],
              {"api_lb_stats_port": lab.stats_port}).write(lab_dir.inventory_path)
    status = collect(lab_dir)
    assert status["api_lb"]["backends"] == [
        {"name": "controller-1", "state": "UP", "check": "Layer7 check passed", "address": "127.0.0.2"},
        {"name": "controller-2", "state": "DOWN", "check": "Layer7 wrong status", "address": "127.0.0.3"},
    ], status["api_lb"]

