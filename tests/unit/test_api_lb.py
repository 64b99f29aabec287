"""The HA topology's API load balancer (role api_lb), rendered from its template and run against two
local TLS backends: a killed backend costs clients nothing, and a restarted one gets clients again only
once its /readyz answers 200 to the load balancer's client certificate."""

import datetime
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

import jinja2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["127.0.0.2", "127.0.0.3"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _issue(ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, cn: str, usage: x509.ObjectIdentifier,
           ips: list[str], out: Path) -> None:
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
    if ips:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(i)) for i in ips]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    out.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.with_suffix(".key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    _issue(ca_key, ca_name, "kube-apiserver", ExtendedKeyUsageOID.SERVER_AUTH, ["127.0.0.1", *BACKENDS], directory / "apiserver")
    _issue(ca_key, ca_name, "labctl:api-lb-health", ExtendedKeyUsageOID.CLIENT_AUTH, [], directory / "api-lb-health")
    return directory


class Backend:
    """An API server stand-in: /readyz is 200 when ready (401 without a client certificate), /who names it."""

    def __init__(self, address: str, port: int, pki: Path) -> None:
        self.address, self.port, self.pki = address, port, pki
        self.ready = True
        self.health_clients: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/readyz":
                    peer = self.connection.getpeercert() or {}
                    subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
                    backend.health_clients.append(str(subject.get("commonName", "")))
                    code = 401 if not peer else (200 if backend.ready else 503)
                    body = b"ok" if code == 200 else b"not ready"
                else:
                    code, body = 200, backend.address.encode()
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
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def setup(pki: Path, tmp_path: Path) -> Iterator[tuple[int, dict[str, Backend]]]:
    backend_port, lb_port = _free_port(), _free_port()
    backends = {address: Backend(address, backend_port, pki) for address in BACKENDS}
    for backend in backends.values():
        backend.start()
    template = jinja2.Environment(undefined=jinja2.StrictUndefined)
    template.filters["to_json"] = json.dumps
    source = (REPO / "roles/api_lb/templates/labctl-api-lb.py.j2").read_text()
    script = tmp_path / "labctl-api-lb"
    script.write_text(template.from_string(source).render(
        api_lb_python=sys.executable, api_lb_port=lb_port, api_lb_backends=BACKENDS, api_lb_backend_port=backend_port,
        api_lb_check_interval_s=0.2, api_lb_check_timeout_s=1, api_lb_fall=1, api_lb_rise=2,
        api_lb_health_path="/readyz", api_lb_config_dir=str(pki),
    ))
    (pki / "api-lb-health.key").chmod(0o600)
    lb = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", lb_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the load balancer never listened"
                time.sleep(0.1)
        yield lb_port, backends
    finally:
        lb.kill()
        lb.wait()
        for backend in backends.values():
            backend.stop()


def _who(lb_port: int, pki: Path) -> str:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    with urllib.request.urlopen(f"https://127.0.0.1:{lb_port}/who", context=context, timeout=3) as response:
        return response.read().decode()


def test_round_robin_and_health_checks_use_the_client_certificate(setup: tuple[int, dict[str, Backend]], pki: Path) -> None:
    lb_port, backends = setup
    answers = {_who(lb_port, pki) for _ in range(10)}
    assert answers == set(BACKENDS)
    time.sleep(0.5)
    for backend in backends.values():
        assert backend.health_clients and set(backend.health_clients) == {"labctl:api-lb-health"}


def test_a_killed_backend_costs_clients_nothing(setup: tuple[int, dict[str, Backend]], pki: Path) -> None:
    lb_port, backends = setup
    backends[BACKENDS[0]].stop()
    # Every request succeeds, even the first ones before a health check noticed.
    answers = [_who(lb_port, pki) for _ in range(20)]
    assert set(answers) == {BACKENDS[1]}


def test_a_restarted_backend_gets_clients_only_once_ready(setup: tuple[int, dict[str, Backend]], pki: Path) -> None:
    lb_port, backends = setup
    first = backends[BACKENDS[0]]
    first.stop()
    assert {_who(lb_port, pki) for _ in range(4)} == {BACKENDS[1]}
    # Listening again but not ready (an API server still running its start-up hooks): no clients.
    first.ready = False
    first.start()
    time.sleep(1.5)
    assert {_who(lb_port, pki) for _ in range(10)} == {BACKENDS[1]}
    first.ready = True
    deadline = time.monotonic() + 5
    while BACKENDS[0] not in {_who(lb_port, pki) for _ in range(4)}:
        assert time.monotonic() < deadline, "the ready backend never got clients back"
        time.sleep(0.2)
