import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lockholder import hold, stop

from labctl.errors import LabBusyError
from labctl.lock import LabLock, read_holder

PROBE = "from pathlib import Path; import sys; from labctl.lock import LabLock; from labctl.errors import LabBusyError\n" \
        "try:\n    LabLock(Path(sys.argv[1]), 'x', 'node add').acquire(); print('took')\n" \
        "except LabBusyError as e:\n    print(e)"


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    with LabLock(path, "x", "up"):
        holder = read_holder(path)
        assert holder is not None and holder.pid == os.getpid() and holder.command == "up"
        with pytest.raises(LabBusyError, match=rf"lab x is busy: up \(pid {os.getpid()}\)"), LabLock(path, "x", "down"):
            pass
    # The file stays (never deleted while someone may hold it); its holder's name goes.
    assert path.exists() and read_holder(path) is None
    with LabLock(path, "x", "down"):
        pass


def test_live_holder_blocks(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    other = hold(path, "drill pod-kill")
    try:
        with pytest.raises(LabBusyError) as caught, LabLock(path, "x", "up"):
            pass
        assert f"lab x is busy: drill pod-kill (pid {other.pid})" in str(caught.value)
    finally:
        stop(other)


def test_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    other = hold(path, "up")
    os.kill(other.pid, signal.SIGKILL)
    other.wait()
    with LabLock(path, "x", "down"):
        assert read_holder(path).command == "down"  # type: ignore[union-attr]


def test_a_name_without_a_lock_is_not_a_holder(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    other = subprocess.Popen(["sleep", "30"])
    try:
        path.write_text(json.dumps({"pid": other.pid, "command": "up", "since": time.time()}))
        with LabLock(path, "x", "down"):
            assert read_holder(path).command == "down"  # type: ignore[union-attr]
    finally:
        stop(other)  # type: ignore[arg-type]


def test_garbage_lock_file_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    path.write_text("{not json")
    with LabLock(path, "x", "up"):
        assert read_holder(path) is not None


def test_a_holders_child_is_refused_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lock"
    # No command works under another's lock, not even one its holder started (the scale-up drill
    # changes the machines itself), whatever the environment says.
    monkeypatch.setenv("LABCTL_LOCK_HELD", "1")
    other = hold(path, "drill scale-up", sys.executable, "-c", PROBE, str(path))
    try:
        assert other.stdout is not None
        assert other.stdout.readline() == f"lab x is busy: drill scale-up (pid {other.pid}); wait for it to finish or stop that process\n"
        assert read_holder(path).command == "drill scale-up"  # type: ignore[union-attr]
    finally:
        stop(other)


def test_a_labs_lock_outlives_its_directory(labctl_home: Path) -> None:
    from labctl.lab import Lab

    lab = Lab("lk")
    lab.create()
    with lab.lock("down"):
        # `down` removes the lab directory while it holds the lock.
        assert not lab.lock_path.is_relative_to(lab.dir)
        import shutil

        shutil.rmtree(lab.dir)
    assert lab.lock_path.exists()
