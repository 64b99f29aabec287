"""Write container images as archives `ctr images import` accepts, without Docker.

The archive is an OCI image layout (oci-layout, index.json, blobs/) that
also carries a Docker-style manifest.json, so both OCI- and Docker-archive
importers name the image correctly. Everything is byte-for-byte
reproducible: fixed mtimes, sorted entries, gzip without a timestamp, so an
unchanged recipe yields an unchanged digest.
"""

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labctl.bundle.versions import GO_ARCH

EPOCH = 1767225600  # 2026-01-01T00:00:00Z, matches the Kubernetes build date
CREATED = "2026-01-01T00:00:00Z"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass
class FileEntry:
    """One file placed into a layer from memory or from disk."""

    path: str
    data: bytes | None = None
    source: Path | None = None
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass
class ImageConfig:
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=lambda: [f"PATH={DEFAULT_PATH}"])
    workdir: str = "/"
    ports: list[str] = field(default_factory=list)
    user: str = ""
    stop_signal: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"Env": self.env, "WorkingDir": self.workdir}
        if self.entrypoint is not None:
            cfg["Entrypoint"] = self.entrypoint
        if self.cmd is not None:
            cfg["Cmd"] = self.cmd
        if self.ports:
            cfg["ExposedPorts"] = {p: {} for p in self.ports}
        if self.user:
            cfg["User"] = self.user
        if self.stop_signal:
            cfg["StopSignal"] = self.stop_signal
        if self.labels:
            cfg["Labels"] = self.labels
        return cfg


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = EPOCH
    info.uname = info.gname = ""
    return info


def _parents(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def layer_from_entries(entries: Iterable[FileEntry]) -> bytes:
    """An uncompressed layer tar from explicit files (parents created 0755)."""
    buf = io.BytesIO()
    seen: set[str] = set()
    items = sorted(entries, key=lambda e: e.path)
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in items:
            for parent in _parents(entry.path):
                if parent not in seen:
                    seen.add(parent)
                    dinfo = _normalise(tarfile.TarInfo(parent))
                    dinfo.type, dinfo.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(dinfo)
            data = entry.data if entry.data is not None else Path(entry.source or "").read_bytes()
            info = _normalise(tarfile.TarInfo(entry.path.strip("/")))
            info.size, info.mode, info.uid, info.gid = len(data), entry.mode, entry.uid, entry.gid
            tar.addfile(info, io.BytesIO(data))
            seen.add(info.name)
    return buf.getvalue()


def layer_from_dir(root: Path, skip: Iterable[str] = ()) -> bytes:
    """An uncompressed layer tar of a whole root filesystem.

    Ownership and modes come from disk (a debootstrapped tree is owned by
    the users its packages made); device nodes are left out because the
    runtime provides /dev.
    """
    skipped = {s.strip("/") for s in skip}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            names = sorted(dirnames + filenames)
            for name in names:
                full = os.path.join(dirpath, name)
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if rel in skipped or any(rel.startswith(s + "/") for s in skipped):
                    if name in dirnames:
                        dirnames.remove(name)
                    continue
                st = os.lstat(full)
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
                    continue
                info = _normalise(tar.gettarinfo(full, arcname=rel))
                if info.isreg():
                    with open(full, "rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def split_ref(ref: str) -> tuple[str, str]:
    """("registry.k8s.io/pause", "3.10.1") from a full reference."""
    name, _, tag = ref.rpartition(":")
    if "/" in tag or not name:
        return ref, "latest"
    return name, tag


def write_image_archive(out: Path, ref: str, layers: list[bytes], config: ImageConfig) -> str:
    """Write the archive for image ref to out; returns the manifest digest."""
    blobs: dict[str, bytes] = {}
    layer_descs: list[dict[str, Any]] = []
    layer_digests: list[str] = []
    diff_ids: list[str] = []
    for raw in layers:
        gz = io.BytesIO()
        # mtime=0 and no filename keep the compressed digest reproducible.
        with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, filename="", compresslevel=6) as fh:
            fh.write(raw)
        digest, data = _blob(gz.getvalue())
        blobs[digest] = data
        layer_descs.append({"mediaType": MT_LAYER, "digest": digest, "size": len(data)})
        layer_digests.append(digest)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())

    cfg_doc = {
        "architecture": GO_ARCH,
        "os": "linux",
        "created": CREATED,
        "config": config.to_json(),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": CREATED, "created_by": "labctl bundle"} for _ in layers],
    }
    cfg_digest, cfg_bytes = _blob(_json_bytes(cfg_doc))
    blobs[cfg_digest] = cfg_bytes

    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cfg_digest, "size": len(cfg_bytes)},
        "layers": layer_descs,
    }
    man_digest, man_bytes = _blob(_json_bytes(manifest))
    blobs[man_digest] = man_bytes

    _, tag = split_ref(ref)
    index = {
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": [{
            "mediaType": MT_MANIFEST,
            "digest": man_digest,
            "size": len(man_bytes),
            "platform": {"architecture": GO_ARCH, "os": "linux"},
            "annotations": {
                "io.containerd.image.name": ref,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }

    def blob_path(digest: str) -> str:
        return "blobs/sha256/" + digest.split(":", 1)[1]

    docker_manifest = [{
        "Config": blob_path(cfg_digest),
        "RepoTags": [ref],
        "Layers": [blob_path(d) for d in layer_digests],
    }]

    files: list[tuple[str, bytes]] = [
        ("oci-layout", _json_bytes({"imageLayoutVersion": "1.0.0"})),
        ("index.json", _json_bytes(index)),
        ("manifest.json", _json_bytes(docker_manifest)),
    ]
    files += [(blob_path(d), data) for d, data in sorted(blobs.items())]

    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirname in ("blobs", "blobs/sha256"):
            dinfo = _normalise(tarfile.TarInfo(dirname))
            dinfo.type, dinfo.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(dinfo)
        for name, data in files:
            info = _normalise(tarfile.TarInfo(name))
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return man_digest
