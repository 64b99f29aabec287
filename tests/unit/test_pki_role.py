"""The pki role, run for real on a small inventory: etcd gets a CA of its own, signs every etcd certificate
with it and nothing else, so an etcd-like TLS server (client certificates verified against etcd's CA only)
refuses a kubelet's certificate at the handshake and accepts the API server's etcd client certificate. A
second run changes nothing; certificates an older lab signed for etcd with the cluster CA are removed."""

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from loopback import serve_each

from labctl.runner import RunResult, run_playbook

PLAYBOOK = """
- name: Issue the lab's certificates
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: pki
"""

INVENTORY = """
all:
  children:
    controllers:
      hosts:
        controller-1: {ansible_host: 127.0.0.1, node_ip: 127.0.0.1}
    workers:
      hosts:
        worker-1: {ansible_host: 127.0.0.3, node_ip: 127.0.0.3}
    etcd:
      children: {controllers: {}}
    k8s_cluster:
      children: {controllers: {}, workers: {}}
"""

ETCD_SIGNED = ["server-controller-1", "peer-controller-1", "apiserver-etcd-client", "etcdctl-client"]
CLUSTER_SIGNED = ["kube-apiserver", "apiserver-kubelet-client", "admin", "kubelet-worker-1", "kubelet-controller-1"]


class Pki:
    def __init__(self, root: Path, runs: list[RunResult]) -> None:
        self.root = root
        self.runs = runs

    def cert(self, name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((self.root / f"{name}.crt").read_bytes())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    tmp = tmp_path_factory.mktemp("pki")
    (tmp / "play.yml").write_text(PLAYBOOK)
    (tmp / "inventory.yml").write_text(INVENTORY)
    root = tmp / "lab" / "pki"
    root.mkdir(parents=True)
    # What a lab from before etcd's own CA kept beside the other certificates.
    for stale in ("etcd-controller-1.crt", "etcd-controller-1.key", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"):
        (root / stale).write_text("stale\n")
    extravars = {
        "lab_name": "unit",
        "lab_pki_dir": str(root),
        "lab_kubeconfig": str(tmp / "lab" / "kubeconfig"),
        "service_cidr": "10.96.0.0/16",
        "api_endpoint_host": "127.0.0.1",
        "api_port": 6443,
        "api_endpoint": "https://127.0.0.1:6443",
        "api_client_endpoint": "https://127.0.0.1:6443",
        "cluster_domain": "cluster.local",
    }
    runs = []
    for _ in range(2):
        result = run_playbook(str(tmp / "play.yml"), logs_dir=tmp / "logs", inventory=tmp / "inventory.yml", extravars=extravars)
        assert result.succeeded, [f.line() for f in result.failures]
        runs.append(result)
    return Pki(root, runs)


def test_etcd_has_a_ca_of_its_own(pki: Pki) -> None:
    cluster_ca, etcd_ca = pki.cert("ca"), pki.cert("etcd/ca")
    assert etcd_ca.subject != cluster_ca.subject
    assert etcd_ca.public_key() != cluster_ca.public_key()
    assert etcd_ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert oct((pki.root / "etcd" / "ca.key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("name", ETCD_SIGNED)
def test_etcd_certificates_are_signed_by_the_etcd_ca_only(pki: Pki, name: str) -> None:
    cert = pki.cert(f"etcd/{name}")
    cert.verify_directly_issued_by(pki.cert("etcd/ca"))
    with pytest.raises((ValueError, InvalidSignature)):
        cert.verify_directly_issued_by(pki.cert("ca"))
    assert oct((pki.root / "etcd" / f"{name}.key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("name", CLUSTER_SIGNED)
def test_kubernetes_certificates_are_not_signed_by_the_etcd_ca(pki: Pki, name: str) -> None:
    cert = pki.cert(name)
    cert.verify_directly_issued_by(pki.cert("ca"))
    with pytest.raises((ValueError, InvalidSignature)):
        cert.verify_directly_issued_by(pki.cert("etcd/ca"))


def test_certificates_etcd_once_shared_with_the_cluster_ca_are_gone(pki: Pki) -> None:
    assert not list(pki.root.glob("etcd-*")) and not list(pki.root.glob("apiserver-etcd-client.*"))


def test_the_admin_kubeconfig_names_everything_after_its_lab(pki: Pki) -> None:
    """kubectl merges KUBECONFIG=a:b by entry name, the first file winning: a user entry named alike in two
    labs would hand lab b's context lab a's client certificate."""
    import yaml

    config = yaml.safe_load((pki.root.parent / "kubeconfig").read_text())
    names = [entry["name"] for key in ("clusters", "users", "contexts") for entry in config[key]]
    assert names and all("unit" in name for name in names), names
    assert config["contexts"][0]["context"]["user"] == config["users"][0]["name"]


def test_a_second_run_changes_nothing(pki: Pki) -> None:
    assert pki.runs[0].total_changed > 0
    assert pki.runs[1].total_changed == 0


@pytest.fixture
def etcd_like_server(pki: Pki) -> Iterator[int]:
    """A TLS server set up as etcd is: its server certificate, client certificates required and verified
    against etcd's CA only (--client-cert-auth, --trusted-ca-file)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.root / "etcd" / "server-controller-1.crt", pki.root / "etcd" / "server-controller-1.key")
    context.load_verify_locations(pki.root / "etcd" / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED

    def answer(connection: socket.socket) -> None:
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError):
            pass

    listener = serve_each(answer)
    yield int(listener.getsockname()[1])
    listener.close()


def _exchange(pki: Pki, port: int, client: str) -> bytes:
    context = ssl.create_default_context(cafile=str(pki.root / "etcd" / "ca.crt"))
    context.load_cert_chain(pki.root / f"{client}.crt", pki.root / f"{client}.key")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return tls.recv(2)


@pytest.mark.parametrize("client", ["etcd/apiserver-etcd-client", "etcd/etcdctl-client"])
def test_etcd_accepts_its_own_clients(pki: Pki, etcd_like_server: int, client: str) -> None:
    assert _exchange(pki, etcd_like_server, client) == b"ok"


def test_etcd_refuses_a_kubelets_certificate(pki: Pki, etcd_like_server: int) -> None:
    with pytest.raises(ssl.SSLError, match=r"(?i)unknown ca|bad certificate|certificate"):
        _exchange(pki, etcd_like_server, "kubelet-worker-1")
