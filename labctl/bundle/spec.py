"""What an artifact is: where it goes, what it is made from, and how to make it."""

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from labctl.bundle.digest import sha256_bytes, sha256_file
from labctl.errors import InfraError


@dataclass
class BuildContext:
    """What a builder may look at: the bundle so far, a scratch dir, a log dir."""

    kube_version: str
    root: Path
    scratch: Path
    logs: Path
    # sha256 of artifacts already in the bundle, for recipes that consume them.
    shas: dict[str, str] = field(default_factory=dict)

    @cached_property
    def go_version(self) -> str:
        try:
            out = subprocess.run(
                ["go", "env", "GOVERSION"], check=True, capture_output=True, text=True
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise InfraError(
                "bundle: the Go toolchain is missing or broken; fix: install Go >= 1.26 on PATH"
            ) from exc
        return out.stdout.strip()

    def log_file(self, name: str) -> Path:
        self.logs.mkdir(parents=True, exist_ok=True)
        return self.logs / (name.replace("/", "_") + ".log")


Maker = Callable[[BuildContext, Path], None]
Inputs = Callable[[BuildContext], dict[str, Any]]


@dataclass(frozen=True)
class ArtifactSpec:
    name: str
    kind: str
    version: str
    relpath: str
    source: str
    # Groups let `only=` name a family ("kubernetes", "images") instead of files.
    group: str
    # Builds in different lanes run side by side: Go builds eat CPU while the
    # Debian lane mostly waits on downloads and disk.
    lane: str
    inputs: Inputs
    make: Maker
    depends: tuple[str, ...] = ()
    mode: int = 0o755
    # Who cannot do without it: `up` (every lab), or the id of the one drill that needs it. What `up` needs is
    # built first; a drill's own extras can wait until that drill first runs.
    needed_by: str = "up"

    def recipe(self, ctx: BuildContext) -> str:
        doc = {"name": self.name, "kind": self.kind, "version": self.version,
               "inputs": self.inputs(ctx)}
        return sha256_bytes(json.dumps(doc, sort_keys=True).encode())


def hash_tree(*paths: Path) -> dict[str, str]:
    """sha256 of every file under the given files/directories, keyed by path.

    Keys are relative to each path's parent so the repo's location on disk
    does not leak into recipes.
    """
    out: dict[str, str] = {}
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for f in files:
            if "__pycache__" in f.parts:
                continue
            out[str(f.relative_to(base.parent))] = sha256_file(f)
    return out
