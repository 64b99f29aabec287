"""fetch() against a local HTTP server laid out like the release download sites."""

import functools
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from labctl import bundle
from labctl.bundle import versions
from labctl.bundle.fetch import published_sha256, render
from labctl.errors import InfraError, UsageError

KUBE = versions.KUBERNETES_VERSION
ETCD = versions.ETCD_VERSION


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    docroot = tmp_path / "www"
    docroot.mkdir()
    handler = functools.partial(QuietHandler, directory=str(docroot))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield docroot, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def put(docroot: Path, rel: str, data: bytes) -> str:
    path = docroot / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def kube_file(docroot: Path, name: str, data: bytes, published: str | None = None) -> None:
    rel = f"k8s/release/{KUBE}/bin/linux/amd64/{name}"
    digest = put(docroot, rel, data)
    put(docroot, rel + ".sha256", (published or digest).encode() + b"\n")


def etcd_release(docroot: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("etcd", "etcdctl", "etcdutl", "README.md"):
            data = f"fake {name}".encode()
            info = tarfile.TarInfo(f"etcd-{ETCD}-linux-amd64/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    asset = f"etcd-{ETCD}-linux-amd64.tar.gz"
    digest = put(docroot, f"gh/etcd-io/etcd/releases/download/{ETCD}/{asset}", buf.getvalue())
    sums = f"{'0' * 64}  etcd-{ETCD}-darwin-arm64.zip\n{digest}  {asset}\n"
    put(docroot, f"gh/etcd-io/etcd/releases/download/{ETCD}/SHA256SUMS", sums.encode())


@pytest.fixture
def sources(site: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABCTL_CACHE", str(tmp_path / "cache"))
    _, base = site
    path = tmp_path / "offline.yml"
    # kubespray-style: base URLs as variables, one artifact overridden with Jinja syntax.
    path.write_text(
        f"dl_k8s_io_url: {base}/k8s\n"
        f"github_url: {base}/gh\n"
        "kubectl_download_url: '{{ dl_k8s_io_url }}/release/{{ version }}/bin/linux/{{ arch }}/kubectl'\n"
    )
    return path


def test_fetch_downloads_verifies_and_records(site: tuple[Path, str], sources: Path) -> None:
    docroot, _ = site
    kube_file(docroot, "kubelet", b"fake kubelet")
    kube_file(docroot, "kubectl", b"fake kubectl")
    etcd_release(docroot)

    result = bundle.fetch(KUBE, sources=sources, only=["kubelet", "kubectl", "etcd"])

    assert sorted(result["fetched"]) == ["etcd", "etcdctl", "etcdutl", "kubectl", "kubelet"]
    assert bundle.artifact_path(KUBE, "kubelet").read_bytes() == b"fake kubelet"
    assert bundle.artifact_path(KUBE, "etcdctl").read_bytes() == b"fake etcdctl"
    status = {c["name"]: c for c in bundle.status(KUBE)["components"]}
    assert status["kubelet"]["present"] and status["etcdutl"]["present"]
    assert not status["kube-apiserver"]["present"]
    # Unchanged URL and checksum: nothing to do the second time.
    again = bundle.fetch(KUBE, sources=sources, only=["kubelet", "kubectl", "etcd"])
    assert again["fetched"] == [] and len(again["skipped"]) == 5


def test_checksum_mismatch_installs_nothing(site: tuple[Path, str], sources: Path) -> None:
    docroot, _ = site
    kube_file(docroot, "kubelet", b"fake kubelet", published="ab" * 32)
    with pytest.raises(InfraError) as err:
        bundle.fetch(KUBE, sources=sources, only=["kubelet"])
    message = str(err.value)
    assert "kubelet" in message and "/k8s/release/" in message and "abab" in message
    assert "\n" not in message
    root = bundle.bundle_dir(KUBE)
    assert not (root / "bin/kubelet").exists()
    assert not [p for p in root.rglob("*") if p.is_file() and "kubelet" in p.name]
    assert bundle.verify(KUBE).count("kubelet") == 1


def test_404_names_artifact_and_url(site: tuple[Path, str], sources: Path) -> None:
    with pytest.raises(InfraError, match=r"kube-proxy: checksum http://127\.0\.0\.1:\d+/k8s/.*kube-proxy\.sha256 returned HTTP 404"):
        bundle.fetch(KUBE, sources=sources, only=["kube-proxy"])
    docroot, _ = site
    # Checksum published but the binary itself is missing.
    put(docroot, f"k8s/release/{KUBE}/bin/linux/amd64/kube-proxy.sha256", b"cd" * 32)
    with pytest.raises(InfraError, match=r"kube-proxy: download .*/kube-proxy returned HTTP 404"):
        bundle.fetch(KUBE, sources=sources, only=["kube-proxy"])
    assert not bundle.artifact_path(KUBE, "kube-proxy").exists()


def test_images_without_a_source_are_reported_not_fetched(sources: Path) -> None:
    result = bundle.fetch(KUBE, sources=sources, only=["images/pause"])
    assert result["not_fetched"] == ["images/pause"]


def test_published_sha256_formats() -> None:
    digest = "a" * 64
    assert published_sha256(digest, "http://x/runc.amd64", "runc", "u") == digest
    lines = f"{'b' * 64} *runc.arm64\n{digest} *runc.amd64\n"
    assert published_sha256(lines, "http://x/runc.amd64", "runc", "u") == digest
    with pytest.raises(InfraError):
        published_sha256("nothing here", "http://x/y", "y", "u")


def test_render_both_template_styles() -> None:
    variables = {"a": "1", "b": "{a}-2"}
    assert render("{{ b }}/{a}", variables, "t") == "1-2/1"


def test_render_takes_a_kubespray_variables_file_with_filters() -> None:
    variables = {"image_arch": "AMD64", "kube_version": "v1.36.3", "dl_k8s_io_url": "https://dl.example",
                 "kubelet_download_url": "{{ dl_k8s_io_url }}/release/{{ kube_version }}/bin/linux/{{ image_arch | lower }}/kubelet"}
    assert render("{{ kubelet_download_url }}", variables, "kubelet") == "https://dl.example/release/v1.36.3/bin/linux/amd64/kubelet"


def test_render_names_an_unknown_variable() -> None:
    with pytest.raises(UsageError, match="'mirror' is undefined"):
        render("{mirror}/x", {}, "t")


def test_image_fetched_when_the_sources_file_names_it(site: tuple[Path, str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABCTL_CACHE", str(tmp_path / "cache"))
    docroot, base = site
    digest = put(docroot, "mirror/images/pause.tar", b"an image archive")
    put(docroot, "mirror/images/pause.tar.sha256", f"{digest}  pause.tar\n".encode())
    sources = tmp_path / "s.yml"
    sources.write_text(f"files_repo: {base}/mirror\n"
                       "pause_image_download_url: '{{ files_repo }}/images/pause.tar'\n"
                       "pause_image_checksum_url: '{url}.sha256'\n")
    result = bundle.fetch(KUBE, sources=sources, only=["images/pause"])
    assert result["fetched"] == ["images/pause"]
    assert bundle.artifact_path(KUBE, "images/pause").read_bytes() == b"an image archive"
