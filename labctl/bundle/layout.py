"""Where bundle files live, and how they are written without half-states."""

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from labctl.errors import InfraError
from labctl.paths import PROJECT_ROOT, cache_home

# Sources of the bundle kept in the repo: Go wrapper modules, image sources.
SOURCE_ROOT = PROJECT_ROOT / "bundle"

TMP_MARK = ".tmp-"


def bundle_dir(kube_version: str) -> Path:
    return cache_home() / "bundle" / f"k8s-{kube_version}"


def temp_name(final: Path) -> Path:
    """A sibling of final that status never mistakes for the artifact.

    Same directory so the closing rename is atomic; hidden so globbing bin/
    never picks up a half-written binary.
    """
    return final.with_name(f".{final.name}{TMP_MARK}{os.getpid()}")


def remove_stale_temps(root: Path) -> list[Path]:
    """Delete temp files an interrupted build left behind."""
    removed = []
    if root.is_dir():
        for path in root.rglob(f".*{TMP_MARK}*"):
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed.append(path)
    return removed


def atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(tmp: Path, final: Path, mode: int = 0o755) -> None:
    """Make a finished temp file the artifact, in one rename."""
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    tmp.chmod(mode)
    os.replace(tmp, final)


@contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """One build or fetch at a time per bundle directory."""
    with open(root / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InfraError(
                f"bundle: another build is running in {root}; fix: wait for it to finish"
            ) from None
        yield
