"""sha256 of artifacts, with a size+mtime cache so status stays cheap."""

import hashlib
import json
import os
from pathlib import Path

from labctl.bundle.layout import atomic_write_json

CHUNK = 1 << 20
STAT_CACHE = ".statcache.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StatCache:
    """Remembers the sha256 of a file for as long as its size and mtime stay put.

    Rehashing a GiB of bundle on every `status` would take seconds; a file
    whose size and nanosecond mtime are unchanged is taken to be unchanged.
    `verify` bypasses this and always rehashes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / STAT_CACHE
        self.entries: dict[str, list] = {}
        self.dirty = False
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def _key(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def lookup(self, path: Path) -> str | None:
        """sha256 of path, from cache when its stat matches, else freshly hashed."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = self._key(path)
        cached = self.entries.get(key)
        if cached and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
            return str(cached[2])
        digest = sha256_file(path)
        self.remember(path, digest)
        return digest

    def remember(self, path: Path, digest: str) -> None:
        st = os.stat(path)
        self.entries[self._key(path)] = [st.st_size, st.st_mtime_ns, digest]
        self.dirty = True

    def save(self) -> None:
        if self.dirty and self.root.is_dir():
            atomic_write_json(self.path, self.entries)
            self.dirty = False
