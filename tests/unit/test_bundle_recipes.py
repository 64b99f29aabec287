"""The bundle's contract: names, layout, pinned flags and the Debian mirror lookup."""

from pathlib import Path

import pytest

from labctl import bundle
from labctl.bundle import debian, versions
from labctl.bundle.catalog import specs
from labctl.bundle.gobuild import kube_target
from labctl.errors import InfraError

KUBE = versions.KUBERNETES_VERSION


def test_layout_matches_the_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LABCTL_CACHE", str(tmp_path))
    root = tmp_path / "bundle" / f"k8s-{KUBE}"
    assert bundle.bundle_dir(KUBE) == root
    paths = {s.relpath for s in specs(KUBE)}
    for binary in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
                   "kube-proxy", "kubectl", "etcd", "etcdctl", "etcdutl", "containerd",
                   "containerd-shim-runc-v2", "ctr", "runc", "crictl", "coredns"):
        assert f"bin/{binary}" in paths
    for path in ("bin/skew/v1.35.4/kubelet", "bin/skew/v1.35.4/kubectl", "cni/bridge",
                 "cni/host-local", "cni/loopback", "cni/portmap", "images/pause.tar",
                 "images/nginx.tar", "images/redis.tar", "images/guestbook.tar",
                 "images/coredns.tar", "rootfs/node-rootfs.tar.zst"):
        assert path in paths
    assert bundle.artifact_path(KUBE, "kubelet") == root / "bin/kubelet"
    assert bundle.artifact_path(KUBE, "images/pause") == root / "images/pause.tar"
    assert len(set(bundle.components_for(KUBE))) == len(bundle.components_for(KUBE))
    with pytest.raises(KeyError):
        bundle.artifact_path(KUBE, "nope")


def test_cache_root_defaults_to_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LABCTL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert bundle.bundle_dir(KUBE) == tmp_path / "labctl" / "bundle" / f"k8s-{KUBE}"


def test_image_names() -> None:
    assert versions.PAUSE_IMAGE == "registry.k8s.io/pause:3.10.1"
    assert versions.GUESTBOOK_IMAGE == "localhost/labctl/guestbook-frontend:v2"
    assert versions.NGINX_IMAGE.startswith("docker.io/library/nginx:1.")
    assert versions.REDIS_IMAGE.startswith("docker.io/library/redis:7.")
    assert versions.COREDNS_IMAGE.startswith("registry.k8s.io/coredns/coredns:v1.14.")


def test_kubernetes_flags_match_the_release_build() -> None:
    """Same flags as upstream (and the cache-warming prebuild) so the Go cache hits."""
    kubelet, apiserver = kube_target(KUBE, "kubelet"), kube_target(KUBE, "kube-apiserver")
    assert kubelet.cgo and not apiserver.cgo
    argv = apiserver.argv(Path("/out"))
    assert argv[:5] == ["go", "build", "-trimpath", "-tags", "selinux,notest"]
    ld = argv[argv.index("-ldflags") + 1]
    assert ld.startswith("-s -w -X k8s.io/component-base/version.gitVersion=v1.36.3 ")
    assert "-X k8s.io/client-go/pkg/version.gitMinor=36" in ld
    assert "-X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z" in ld
    assert argv[-1] == "k8s.io/kubernetes/cmd/kube-apiserver"


def test_every_go_wrapper_module_is_in_the_repo() -> None:
    for spec in specs(KUBE):
        if spec.source.startswith("go:"):
            target_dir = spec.inputs.__self__.moddir  # type: ignore[attr-defined]
            assert (target_dir / "go.mod").is_file(), spec.name
            assert (target_dir / "go.sum").is_file(), spec.name


DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main contrib
"""


def test_mirror_lines_from_deb822(tmp_path: Path) -> None:
    src = tmp_path / "debian.sources"
    src.write_text(DEB822)
    assert debian.mirror_lines("bookworm", (src,)) == [
        "deb http://mirror.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm-updates main",
        "deb http://mirror.example/debian-security bookworm-security main contrib",
    ]


def test_mirror_lines_one_line_format_and_missing_suite(tmp_path: Path) -> None:
    src = tmp_path / "sources.list"
    src.write_text("deb http://mirror.example/debian trixie main\n")
    with pytest.raises(InfraError, match="no apt source for Debian bookworm"):
        debian.mirror_lines("bookworm", (src,))
    assert debian.mirror_lines("trixie", (src,)) == ["deb http://mirror.example/debian trixie main"]


def test_package_version(tmp_path: Path) -> None:
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: redis-server\nStatus: install ok installed\nVersion: 5:7.0.15-1~deb12u1\n\n")
    assert debian.package_version(tmp_path, "redis-server") == "7.0.15"


@pytest.mark.parametrize(("output", "hint"), [
    ("go: missing go.sum entry for module providing package x", "go mod tidy"),
    ("dial tcp: lookup proxy: no such host", "module proxy"),
    ("fatal error: seccomp.h: No such file or directory", "libseccomp-dev"),
    ("something else", "read the log"),
])
def test_go_build_failures_come_with_a_fix(output: str, hint: str) -> None:
    from labctl.bundle.gobuild import fix_hint

    assert hint in fix_hint(output, Path("/w"))
