"""What the bundle on disk holds: cheap status, thorough verify."""

from pathlib import Path
from typing import Any

from labctl.bundle import catalog, node_python
from labctl.bundle.digest import StatCache, sha256_file
from labctl.bundle.layout import bundle_dir
from labctl.bundle.manifest import Manifest


def artifact_path(kube_version: str, name: str) -> Path:
    """Where artifact name lives (whether or not it is built yet)."""
    spec = catalog.by_name(kube_version).get(name)
    if spec is None:
        raise KeyError(f"unknown bundle artifact {name!r}")
    return bundle_dir(kube_version) / spec.relpath


def status(kube_version: str) -> dict[str, Any]:
    root = bundle_dir(kube_version)
    manifest = Manifest.load(root, kube_version)
    cache = StatCache(root)
    components = []
    for spec in catalog.specs(kube_version):
        entry = manifest.artifacts.get(spec.name)
        path = root / spec.relpath
        sha = cache.lookup(path) if entry and path.is_file() else None
        components.append({
            "name": spec.name,
            "kind": spec.kind,
            "version": entry.version if entry else spec.version,
            "present": bool(entry and sha == entry.sha256),
            "needed_by": spec.needed_by,
            "sha256": entry.sha256 if entry else None,
            "path": spec.relpath,
        })
    cache.save()
    return {"path": str(root), "kubernetes_version": kube_version, "components": components}


def verify(kube_version: str) -> list[str]:
    """Names of artifacts missing or not matching the manifest; always rehashes."""
    root = bundle_dir(kube_version)
    manifest = Manifest.load(root, kube_version)
    cache = StatCache(root)
    bad = []
    for spec in catalog.specs(kube_version):
        entry = manifest.artifacts.get(spec.name)
        path = root / spec.relpath
        if entry is None or not path.is_file():
            bad.append(spec.name)
            continue
        digest = sha256_file(path)
        # Refresh the cache so a later status agrees with what we just saw,
        # even for a change that kept size and mtime.
        cache.remember(path, digest)
        if digest != entry.sha256:
            bad.append(spec.name)
    cache.save()
    return bad


def purpose(needed_by: str) -> str:
    """Who needs an artifact, in words: `up` (every lab), Flatcar cloud labs made with --offline, or one drill."""
    if needed_by == "up":
        return "a lab (`labctl up`)"
    if needed_by == node_python.NEEDED_BY:
        return "Flatcar cloud labs with --offline"
    return f"drill {needed_by}"


def missing_for(report: dict[str, Any], needed_by: str) -> list[str]:
    """Components of a status REPORT that NEEDED_BY (see purpose) needs and are not built."""
    return [c["name"] for c in report["components"] if not c["present"] and c["needed_by"] == needed_by]


def missing_for_a_lab(report: dict[str, Any]) -> list[str]:
    """Components of a status REPORT a lab cannot come up without."""
    return missing_for(report, "up")
