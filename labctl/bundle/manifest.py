"""manifest.json: what the bundle holds, as recorded by the last build or fetch."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labctl.bundle.layout import atomic_write_json
from labctl.errors import InfraError

SCHEMA = "labctl.bundle/v1"
MANIFEST = "manifest.json"


@dataclass
class Entry:
    name: str
    kind: str
    version: str
    path: str
    sha256: str
    size: int
    source: str
    recipe: str


@dataclass
class Manifest:
    kubernetes_version: str
    artifacts: dict[str, Entry]

    @classmethod
    def load(cls, root: Path, kube_version: str) -> "Manifest":
        path = root / MANIFEST
        if not path.exists():
            return cls(kube_version, {})
        try:
            data = json.loads(path.read_text())
            if data.get("schema") != SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}")
            entries = {a["name"]: Entry(**a) for a in data["artifacts"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise InfraError(
                f"bundle manifest {path} is unreadable ({exc}); "
                f"fix: delete it and run `labctl bundle build`"
            ) from exc
        return cls(data.get("kubernetes_version", kube_version), entries)

    def save(self, root: Path, order: list[str]) -> None:
        """Write atomically, artifacts in catalog order so diffs stay readable."""
        rank = {name: i for i, name in enumerate(order)}
        entries = sorted(self.artifacts.values(), key=lambda e: rank.get(e.name, len(rank)))
        atomic_write_json(
            root / MANIFEST,
            {
                "schema": SCHEMA,
                "kubernetes_version": self.kubernetes_version,
                "artifacts": [asdict(e) for e in entries],
            },
        )


def record(manifest: "Manifest", cache: Any, root: Path, order: list[str], spec: Any, final: Path, *,
           sha: str, size: int, source: str, recipe: str) -> None:
    """Enter a just-published artifact in the manifest and the stat cache (build and fetch alike)."""
    manifest.artifacts[spec.name] = Entry(
        name=spec.name, kind=spec.kind, version=spec.version, path=spec.relpath,
        sha256=sha, size=size, source=source, recipe=recipe,
    )
    manifest.save(root, order)
    cache.remember(final, sha)
    cache.save()
