"""verify() on a copy of the real bundle notices a single flipped byte."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from bundlehelpers import KUBE, need

from labctl import bundle
from labctl.paths import PROJECT_ROOT

pytestmark = pytest.mark.bundle


def test_flipped_byte_in_a_copy_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = need("cni/loopback")["cni/loopback"]
    real_root = bundle.bundle_dir(KUBE)
    monkeypatch.setenv("LABCTL_CACHE", str(tmp_path))
    copy_root = bundle.bundle_dir(KUBE)
    (copy_root / "cni").mkdir(parents=True)
    shutil.copy2(real_root / "manifest.json", copy_root / "manifest.json")
    target = copy_root / "cni/loopback"
    shutil.copy2(src, target)
    assert "cni/loopback" not in bundle.verify(KUBE)

    st = target.stat()
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert "cni/loopback" in bundle.verify(KUBE)
    status = {c["name"]: c["present"] for c in bundle.status(KUBE)["components"]}
    assert status["cni/loopback"] is False


def test_guestbook_go_tests_pass() -> None:
    if not shutil.which("go") or not shutil.which("redis-server"):
        pytest.skip("needs go and redis-server (apt-get install -y redis-server)")
    proc = subprocess.run(["go", "test", "./..."], cwd=PROJECT_ROOT / "bundle/images/guestbook",
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GOFLAGS": "-buildvcs=false"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
