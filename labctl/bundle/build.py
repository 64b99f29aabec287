"""Incremental, interruption-safe build of the bundle.

An artifact is rebuilt only when its recipe hash (version, flags, hashes of
its sources) changed or its file is missing or altered. Each artifact is
written under a temp name and renamed into place, and the manifest is
rewritten (atomically) after every artifact, so a build killed at any point
leaves nothing that `status` would call present but is not.
"""

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labctl.bundle import catalog
from labctl.bundle.digest import StatCache, sha256_file
from labctl.bundle.layout import bundle_dir, exclusive, publish, remove_stale_temps, temp_name
from labctl.bundle.manifest import Manifest, record
from labctl.bundle.spec import ArtifactSpec, BuildContext
from labctl.errors import InfraError, LabctlError, UsageError, one_line
from labctl.mounts import mounts_under

OnStep = Callable[[str, str, str], None]
SCRATCH_PREFIX = ".scratch-"


def _quiet(_name: str, _event: str, _detail: str) -> None:
    pass


def select(specs: list[ArtifactSpec], only: list[str] | None, needed_by: str | None = None) -> list[ArtifactSpec]:
    """The specs named (by artifact or group) in ONLY and those NEEDED_BY `up` or a drill, plus what they need."""
    if needed_by is not None:
        purposes = sorted({s.needed_by for s in specs})
        if needed_by not in purposes:
            raise UsageError(f"nothing in the bundle is needed by '{needed_by}' alone: choose from {', '.join(purposes)}")
        only = [*(only or []), *(s.name for s in specs if s.needed_by == needed_by)]
    if not only:
        return specs
    names = {s.name for s in specs}
    groups = {s.group for s in specs}
    unknown = [w for w in only if w not in names and w not in groups]
    if unknown:
        raise UsageError(
            f"unknown bundle component(s): {', '.join(unknown)}; "
            f"choose from groups {', '.join(sorted(groups))} or artifact names"
        )
    wanted = {s.name for s in specs if s.name in only or s.group in only}
    by_name = {s.name: s for s in specs}
    pending = list(wanted)
    while pending:
        for dep in by_name[pending.pop()].depends:
            if dep not in wanted:
                wanted.add(dep)
                pending.append(dep)
    return [s for s in specs if s.name in wanted]


def _mounted_under(path: Path) -> bool:
    return any(m != str(path.resolve()) for m in mounts_under(str(path.resolve())))


def _remove_stale_scratch(root: Path) -> None:
    for scratch in root.glob(SCRATCH_PREFIX + "*"):
        # A killed mmdebstrap can leave /proc or /sys mounted inside its root;
        # deleting through those mounts would be wrong, so leave it be.
        if scratch.is_dir() and not _mounted_under(scratch):
            shutil.rmtree(scratch, ignore_errors=True)


class _Run:
    """State of one build: manifest, stat cache and results, shared by lanes."""

    def __init__(self, root: Path, kube_version: str, order: list[str], on_step: OnStep,
                 force: bool) -> None:
        self.root = root
        self.order = order
        self.on_step = on_step
        self.force = force
        self.lock = threading.Lock()
        self.manifest = Manifest.load(root, kube_version)
        self.cache = StatCache(root)
        self.built: list[str] = []
        self.skipped: list[str] = []
        self.times: dict[str, float] = {}
        self.error: BaseException | None = None

    def present_sha(self, spec: ArtifactSpec) -> str | None:
        path = self.root / spec.relpath
        with self.lock:
            return self.cache.lookup(path) if path.exists() else None

    def run_one(self, spec: ArtifactSpec, ctx: BuildContext) -> None:
        final = self.root / spec.relpath
        recipe = spec.recipe(ctx)
        entry = self.manifest.artifacts.get(spec.name)
        if (not self.force and entry and entry.recipe == recipe
                and self.present_sha(spec) == entry.sha256):
            with self.lock:
                self.skipped.append(spec.name)
                ctx.shas[spec.name] = entry.sha256
            self.on_step(spec.name, "skip", "up to date")
            return

        self.on_step(spec.name, "start", spec.source)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(final)
        started = time.monotonic()
        try:
            spec.make(ctx, tmp)
            if not tmp.is_file():
                raise InfraError(f"bundle: {spec.name}: the build step produced no file")
            sha, size = sha256_file(tmp), tmp.stat().st_size
            publish(tmp, final, spec.mode)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            self.on_step(spec.name, "fail", one_line(str(exc)) or type(exc).__name__)
            raise
        seconds = time.monotonic() - started
        with self.lock:
            record(self.manifest, self.cache, self.root, self.order, spec, final,
                   sha=sha, size=size, source=spec.source, recipe=recipe)
            ctx.shas[spec.name] = sha
            self.built.append(spec.name)
            self.times[spec.name] = round(seconds, 1)
        self.on_step(spec.name, "done", f"{seconds:.1f}s {size / 1e6:.1f} MB")

    def run_lane(self, lane: list[ArtifactSpec], ctx: BuildContext) -> None:
        for spec in lane:
            if self.error is not None:
                return
            try:
                self.run_one(spec, ctx)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                with self.lock:
                    if self.error is None:
                        self.error = exc
                return


def build(kube_version: str, *, only: list[str] | None = None, needed_by: str | None = None,
          on_step: OnStep | None = None, force: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    specs = catalog.specs(kube_version)
    chosen = select(specs, only, needed_by)
    root = bundle_dir(kube_version)
    root.mkdir(parents=True, exist_ok=True)

    with exclusive(root):
        remove_stale_temps(root)
        _remove_stale_scratch(root)
        run = _Run(root, kube_version, [s.name for s in specs], on_step or _quiet, force)
        # Artifacts already in the manifest feed recipes that consume them.
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=root))
        ctx = BuildContext(kube_version, root, scratch, root / "logs",
                           {n: e.sha256 for n, e in run.manifest.artifacts.items()})
        lanes: dict[str, list[ArtifactSpec]] = {}
        for spec in chosen:
            lanes.setdefault(spec.lane, []).append(spec)
        try:
            threads = [threading.Thread(target=run.run_lane, args=(lane, ctx), daemon=True,
                                        name=f"bundle-{name}")
                       for name, lane in lanes.items()]
            for t in threads:
                t.start()
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            run.error = run.error or KeyboardInterrupt()
            raise
        finally:
            if not _mounted_under(scratch):
                shutil.rmtree(scratch, ignore_errors=True)

    if run.error is not None:
        # Interrupts and exits pass through as they are; so do our own errors.
        if isinstance(run.error, LabctlError) or not isinstance(run.error, Exception):
            raise run.error
        raise InfraError(f"bundle: build failed: {one_line(str(run.error))}") from run.error
    return {
        "built": run.built,
        "skipped": run.skipped,
        "seconds": round(time.monotonic() - started, 1),
        "times": run.times,
        "path": str(root),
    }
