import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from labctl.errors import LabBusyError
from labctl.lock import LabLock, read_holder


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    with LabLock(path, "x", "up"):
        holder = read_holder(path)
        assert holder is not None and holder.pid == os.getpid() and holder.command == "up"
    assert not path.exists()


def test_live_holder_blocks(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    other = subprocess.Popen(["sleep", "30"])
    try:
        path.write_text(json.dumps({"pid": other.pid, "command": "drill pod-kill", "since": time.time()}))
        with pytest.raises(LabBusyError) as caught, LabLock(path, "x", "up"):
            pass
        assert f"lab x is busy: drill pod-kill (pid {other.pid})" in str(caught.value)
    finally:
        other.kill()
        other.wait()


def test_stale_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    dead = subprocess.Popen(["true"])
    dead.wait()
    path.write_text(json.dumps({"pid": dead.pid, "command": "up", "since": time.time()}))
    lock = LabLock(path, "x", "down")
    with lock:
        assert lock.took_over is not None and lock.took_over.pid == dead.pid
        assert read_holder(path).command == "down"  # type: ignore[union-attr]


def test_garbage_lock_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    path.write_text("{not json")
    with LabLock(path, "x", "up"):
        assert read_holder(path) is not None


def test_a_holders_child_inherits_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lock"
    with LabLock(path, "x", "drill scale-up"):
        monkeypatch.setenv("LABCTL_LOCK_HELD", str(os.getpid()))
        with LabLock(path, "x", "node add") as inner:
            assert inner.inherited
        assert read_holder(path).command == "drill scale-up"  # type: ignore[union-attr]


def test_inheritance_needs_the_holders_pid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lock"
    other = subprocess.Popen(["sleep", "30"])
    try:
        path.write_text(json.dumps({"pid": other.pid, "command": "up", "since": time.time()}))
        monkeypatch.setenv("LABCTL_LOCK_HELD", "1")
        with pytest.raises(LabBusyError), LabLock(path, "x", "node add"):
            pass
    finally:
        other.kill()
        other.wait()
