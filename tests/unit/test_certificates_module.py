"""labctl.lab.certificates, run by Ansible on localhost: what it issues, what it keeps on a second run and what it
issues again (a changed name list, a key of the wrong kind, a certificate about to expire, a CA made again),
check mode writing nothing, and a certificate named after a missing CA failing with that CA's path."""

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from module_task import run_module

AUTHORITIES = [{"name": "ca", "cn": "unit CA"}, {"name": "etcd/ca", "cn": "unit etcd CA"}]
SERVER = {"name": "server", "cn": "server", "sans": ["DNS:server", "IP:10.0.0.1"], "usages": ["serverAuth"]}
CLIENT = {"name": "etcd/client", "ca": "etcd/ca", "cn": "client", "org": "group", "usages": ["clientAuth"]}


def run(tmp: Path, check: bool = False, **params: object) -> dict:
    return run_module(tmp, "labctl.lab.certificates", params, check)


def cert(root: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((root / f"{name}.crt").read_bytes())


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    root = tmp_path / "pki"
    first = run(tmp_path, path=str(root), authorities=AUTHORITIES, certificates=[SERVER, CLIENT], key_pairs=["sa"])
    assert first["changed"] and "server.crt" in first["written"]
    return root


def test_it_issues_what_is_asked(pki: Path) -> None:
    server, client = cert(pki, "server"), cert(pki, "etcd/client")
    server.verify_directly_issued_by(cert(pki, "ca"))
    client.verify_directly_issued_by(cert(pki, "etcd/ca"))
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["server"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.1"]
    assert list(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "group"
    assert cert(pki, "ca").extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(serialization.load_pem_private_key((pki / "sa.key").read_bytes(), None), rsa.RSAPrivateKey)
    for key in pki.rglob("*.key"):
        assert key.stat().st_mode & 0o777 == 0o600, key
    for public in [*pki.rglob("*.crt"), pki / "sa.pub"]:
        assert public.stat().st_mode & 0o777 == 0o644, public
    assert (pki / "etcd").stat().st_mode & 0o777 == 0o700


def test_a_second_run_changes_nothing(pki: Path) -> None:
    before = {p: p.read_bytes() for p in pki.rglob("*") if p.is_file()}
    again = run(pki.parent, path=str(pki), authorities=AUTHORITIES, certificates=[SERVER, CLIENT], key_pairs=["sa"])
    assert not again["changed"] and again["written"] == []
    assert {p: p.read_bytes() for p in pki.rglob("*") if p.is_file()} == before


def test_changed_names_are_signed_again_with_the_same_key(pki: Path) -> None:
    key = (pki / "server.key").read_bytes()
    moved = {**SERVER, "sans": ["DNS:server", "IP:10.0.0.2"]}
    result = run(pki.parent, path=str(pki), authorities=AUTHORITIES, certificates=[moved, CLIENT])
    assert result["written"] == ["server.crt"]
    assert (pki / "server.key").read_bytes() == key
    names = cert(pki, "server").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.2"]


def test_a_key_of_another_kind_is_made_again(pki: Path) -> None:
    (pki / "server.key").write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    result = run(pki.parent, path=str(pki), authorities=AUTHORITIES, certificates=[SERVER, CLIENT])
    assert result["written"] == ["server.key", "server.crt"]
    key = serialization.load_pem_private_key((pki / "server.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_a_certificate_about_to_expire_is_renewed(pki: Path) -> None:
    """Re-sign server.crt (same key, same CA) to expire in 10 days: inside renew_before_days (30)."""
    old = cert(pki, "server")
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    now = datetime.datetime.now(datetime.UTC)
    builder = x509.CertificateBuilder(
        issuer_name=old.issuer,
        subject_name=old.subject,
        public_key=old.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=now - datetime.timedelta(days=1),
        not_valid_after=now + datetime.timedelta(days=10),
        extensions=list(old.extensions),
    )
    (pki / "server.crt").write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))  # type: ignore[arg-type]
    result = run(pki.parent, path=str(pki), authorities=AUTHORITIES, certificates=[SERVER, CLIENT])
    assert result["written"] == ["server.crt"]
    assert cert(pki, "server").not_valid_after_utc - now > datetime.timedelta(days=300)


def test_a_new_ca_key_signs_its_certificates_again(pki: Path) -> None:
    (pki / "etcd" / "ca.key").unlink()
    result = run(pki.parent, path=str(pki), authorities=AUTHORITIES, certificates=[SERVER, CLIENT])
    assert result["written"] == ["etcd/ca.key", "etcd/ca.crt", "etcd/client.crt"]
    cert(pki, "etcd/client").verify_directly_issued_by(cert(pki, "etcd/ca"))


def test_check_mode_writes_nothing(pki: Path) -> None:
    (pki / "server.crt").unlink()
    result = run(pki.parent, check=True, path=str(pki), authorities=AUTHORITIES, certificates=[SERVER, CLIENT])
    assert result["changed"] and result["written"] == ["server.crt"]
    assert not (pki / "server.crt").exists()


def test_a_certificate_of_a_missing_ca_fails_naming_it(tmp_path: Path) -> None:
    users = tmp_path / "user"
    result = run(tmp_path, path=str(users), ca_path=str(tmp_path / "nowhere"), certificates=[{**CLIENT, "ca": "ca"}])
    assert result["failed"] and str(tmp_path / "nowhere" / "ca.crt") in result["msg"]
    assert not list(users.rglob("*.crt"))
