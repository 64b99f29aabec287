"""Image archives: layout, names and digests containerd relies on."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

from labctl.bundle import oci
from labctl.bundle.oci import FileEntry, ImageConfig


def read_archive(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def test_archive_names_the_image_for_oci_and_docker_importers(tmp_path: Path) -> None:
    layer = oci.layer_from_entries([FileEntry("bin/hello", data=b"#!/bin/sh\necho hi\n", mode=0o755)])
    out = tmp_path / "img.tar"
    ref = "registry.k8s.io/pause:3.10.1"
    digest = oci.write_image_archive(out, ref, [layer], ImageConfig(entrypoint=["/bin/hello"]))

    files = read_archive(out)
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    desc = index["manifests"][0]
    assert desc["digest"] == digest
    assert desc["annotations"] == {
        "io.containerd.image.name": ref,
        "org.opencontainers.image.ref.name": "3.10.1",
    }
    docker = json.loads(files["manifest.json"])
    assert docker[0]["RepoTags"] == [ref]

    # Every blob is stored under its own digest.
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]

    manifest = json.loads(files["blobs/sha256/" + digest.split(":")[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    assert config["config"]["Entrypoint"] == ["/bin/hello"]
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    # diff_id is the digest of the uncompressed layer.
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]


def test_archives_are_reproducible(tmp_path: Path) -> None:
    def make(path: Path) -> bytes:
        layer = oci.layer_from_entries([FileEntry("a/b/c", data=b"x")])
        oci.write_image_archive(path, "localhost/x:v1", [layer], ImageConfig(cmd=["/a/b/c"]))
        return path.read_bytes()

    assert make(tmp_path / "1.tar") == make(tmp_path / "2.tar")


def test_layer_from_dir_keeps_modes_links_and_skips_devices(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_bytes(b"tool")
    (root / "usr/bin/tool").chmod(0o4755)
    (root / "usr/bin/alias").symlink_to("tool")
    (root / "usr/bin/hard").hardlink_to(root / "usr/bin/tool")
    layer = oci.layer_from_dir(root)
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = {m.name: m for m in tar}
    assert members["usr/bin/tool"].mode & 0o7777 == 0o4755
    assert members["usr/bin/alias"].issym() and members["usr/bin/alias"].linkname == "tool"
    assert members["usr/bin/hard"].islnk() or members["usr/bin/tool"].islnk()
    assert all(m.mtime == oci.EPOCH for m in members.values())


def test_split_ref() -> None:
    assert oci.split_ref("docker.io/library/nginx:1.22.1") == ("docker.io/library/nginx", "1.22.1")
    assert oci.split_ref("localhost:5000/x") == ("localhost:5000/x", "latest")
