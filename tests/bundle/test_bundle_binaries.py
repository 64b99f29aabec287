"""The built binaries run and report the versions the bundle claims."""

import subprocess

import pytest
from bundlehelpers import KUBE, need

from labctl import bundle
from labctl.bundle import versions

pytestmark = pytest.mark.bundle


def run(*cmd: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def test_every_component_is_present_and_verifies() -> None:
    need(*bundle.components_for(KUBE))
    assert bundle.verify(KUBE) == []


@pytest.mark.parametrize("name", ["kubelet", "kube-apiserver", "kube-controller-manager",
                                  "kube-scheduler", "kube-proxy"])
def test_kubernetes_version_stamp(name: str) -> None:
    path = need(name)[name]
    assert f"Kubernetes {KUBE}" in run(str(path), "--version")


def test_kubectl_client_version() -> None:
    path = need("kubectl")["kubectl"]
    assert f"Client Version: {KUBE}" in run(str(path), "version", "--client")


def test_skew_kubelet_is_older() -> None:
    name = f"skew/{versions.SKEW_VERSION}/kubelet"
    path = need(name)[name]
    assert f"Kubernetes {versions.SKEW_VERSION}" in run(str(path), "--version")


@pytest.mark.parametrize(("name", "args", "expect"), [
    ("etcd", ["--version"], "etcd Version: " + versions.ETCD_VERSION.lstrip("v")),
    ("etcdctl", ["version"], "etcdctl version: " + versions.ETCD_VERSION.lstrip("v")),
    ("etcdutl", ["version"], "etcdutl version: " + versions.ETCD_VERSION.lstrip("v")),
    ("containerd", ["--version"], versions.CONTAINERD_VERSION),
    ("ctr", ["--version"], versions.CONTAINERD_VERSION),
    ("runc", ["--version"], "runc version " + versions.RUNC_VERSION.lstrip("v")),
    ("crictl", ["--version"], versions.CRICTL_VERSION),
    ("coredns", ["-version"], "CoreDNS-" + versions.COREDNS_VERSION.lstrip("v")),
    ("cni/bridge", ["version"], versions.CNI_PLUGINS_VERSION),
])
def test_runtime_versions(name: str, args: list[str], expect: str) -> None:
    path = need(name)[name]
    assert expect in run(str(path), *args)


def test_runc_has_seccomp_and_is_static() -> None:
    path = need("runc")["runc"]
    assert "seccomp" in run(str(path), "--version")
    assert "not a dynamic executable" in run("ldd", str(path)) or "statically linked" in run("ldd", str(path))
