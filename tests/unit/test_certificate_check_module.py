"""labctl.lab.certificate_check, run by Ansible on localhost with the host's openssl against a PKI the project's
certificates module makes: each certificate judged against the CA it must chain to, etcd's never chaining to the
cluster CA, names and validity read, the reference CAs left nowhere, and every judgement able to come out false."""

import os
import shutil
from pathlib import Path

import pytest
from module_task import run_module

AUTHORITIES = [{"name": "ca", "cn": "unit CA"}, {"name": "etcd/ca", "cn": "unit etcd CA"}]
CERTIFICATES = [
    {"name": "kube/apiserver", "cn": "kube-apiserver", "sans": ["DNS:kubernetes.default.svc", "IP:10.0.0.1"], "usages": ["serverAuth"]},
    {"name": "kube/kubelet", "cn": "system:node:worker-1", "org": "system:nodes", "usages": ["clientAuth"], "days": 10},
    {"name": "kube/apiserver-etcd-client", "ca": "etcd/ca", "cn": "kube-apiserver-etcd-client", "usages": ["clientAuth"]},
    {"name": "etcd/server", "ca": "etcd/ca", "cn": "etcd", "sans": ["IP:10.0.0.1"], "usages": ["serverAuth"]},
    # A certificate of the cluster CA where etcd's belong: the check must say it does not chain to etcd's CA.
    {"name": "etcd/intruder", "cn": "intruder", "usages": ["clientAuth"]},
]


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    root = tmp_path / "pki"
    run_module(tmp_path, "labctl.lab.certificates", {"path": str(root), "authorities": AUTHORITIES, "certificates": CERTIFICATES})
    return root


def check(pki: Path, cluster_ca: Path, etcd_ca: Path | None) -> dict:
    return run_module(
        pki.parent,
        "labctl.lab.certificate_check",
        {
            "node": "worker-1",
            "kube_dir": str(pki / "kube"),
            "etcd_dirs": [str(pki / "etcd"), str(pki / "absent")],
            "etcd_client_certs": [str(pki / "kube/apiserver-etcd-client.crt")],
            "cluster_ca": cluster_ca.read_text(),
            "etcd_ca": etcd_ca.read_text() if etcd_ca else "",
            "min_valid_days": 30,
        },
    )


def by_name(result: dict) -> dict[str, dict]:
    assert not result.get("failed"), result.get("msg")
    return {Path(c["path"]).relative_to(Path(c["path"]).parents[1]).with_suffix("").as_posix(): c for c in result["certificates"]}


def test_each_certificate_is_judged_against_the_ca_it_must_chain_to(pki: Path) -> None:
    certs = by_name(check(pki, pki / "ca.crt", pki / "etcd/ca.crt"))
    assert set(certs) == {"kube/apiserver", "kube/kubelet", "kube/apiserver-etcd-client", "etcd/ca", "etcd/server", "etcd/intruder"}
    assert {name: (c["ca"], c["verified"], c["cluster_signed"]) for name, c in certs.items()} == {
        "kube/apiserver": ("cluster", True, True),
        "kube/kubelet": ("cluster", True, True),
        "kube/apiserver-etcd-client": ("etcd", True, False),
        "etcd/ca": ("etcd", True, False),
        "etcd/server": ("etcd", True, False),
        "etcd/intruder": ("etcd", False, True),
    }
    assert {c["node"] for c in certs.values()} == {"worker-1"}


def test_names_and_validity_are_read(pki: Path) -> None:
    certs = by_name(check(pki, pki / "ca.crt", pki / "etcd/ca.crt"))
    api, kubelet = certs["kube/apiserver"], certs["kube/kubelet"]
    assert api["subject"] == "kube-apiserver" and api["sans"] == ["DNS:kubernetes.default.svc", "IP:10.0.0.1"]
    assert kubelet["subject"] == "system:node:worker-1" and kubelet["sans"] == []
    assert not api["expired"] and api["valid_min"]
    # Ten days left: not expired, but not valid 30 days from now.
    assert not kubelet["expired"] and not kubelet["valid_min"]
    assert api["not_before"] < api["not_after"] and api["not_after"].endswith("Z")


def test_a_foreign_ca_verifies_nothing_and_no_etcd_ca_verifies_no_etcd_certificate(pki: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    run_module(tmp_path, "labctl.lab.certificates", {"path": str(other), "authorities": [{"name": "ca", "cn": "another CA"}]})
    certs = by_name(check(pki, other / "ca.crt", None))
    assert not any(c["verified"] or c["cluster_signed"] for c in certs.values())


def test_the_reference_cas_are_left_nowhere(pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    by_name(check(pki, pki / "ca.crt", pki / "etcd/ca.crt"))
    assert list(scratch.iterdir()) == []


def test_a_certificate_that_cannot_be_read_fails_the_check_naming_it(pki: Path) -> None:
    (pki / "kube/broken.crt").write_text("not a certificate\n")
    result = check(pki, pki / "ca.crt", pki / "etcd/ca.crt")
    assert result["failed"] and "kube/broken.crt: not a PEM X.509 certificate" in result["msg"]


def test_openssl_runs_once_per_reference_ca_and_never_per_certificate(pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node's check costs two openssl processes (one verify per CA), however many certificates it holds."""
    real = shutil.which("openssl")
    assert real
    bin_dir, calls = tmp_path / "bin", tmp_path / "openssl-calls"
    bin_dir.mkdir()
    (bin_dir / "openssl").write_text(f'#!/bin/sh\necho "$1" >> "{calls}"\nexec "{real}" "$@"\n')
    (bin_dir / "openssl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    certs = by_name(check(pki, pki / "ca.crt", pki / "etcd/ca.crt"))
    assert len(certs) == 6
    assert calls.read_text().split() == ["verify", "verify"]
