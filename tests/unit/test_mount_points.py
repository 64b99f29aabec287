"""Mount points are read as the kernel means them: /proc escapes a space in a path as \\040,
and a guard that compares raw text says "not mounted" and lets rmtree walk into the mount."""

import os
import subprocess
from pathlib import Path

import pytest

from labctl.bundle.build import _mounted_under
from labctl.providers.local import nspawn

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")


@pytest.fixture
def spaced_mount(tmp_path: Path):
    home = tmp_path / "labctl home"
    target = home / "nodes" / "n1" / "root"
    target.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(target)], check=True)
    yield home, target
    subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_mount_under_a_path_with_a_space_is_seen(spaced_mount) -> None:
    home, target = spaced_mount
    assert nspawn.is_mounted(target)
    assert _mounted_under(home)
    assert not _mounted_under(home / "nodes" / "n2")


def test_unmount_all_unmounts_a_node_root_with_a_space(spaced_mount, tmp_path: Path) -> None:
    home, target = spaced_mount
    assert os.path.ismount(target)
    spec = nspawn.NodeSpec(lab="t", name="n1", ip="10.0.0.2", prefixlen=24, gateway="10.0.0.1", bridge="lc-t",
                           base=home / "nodes" / "n1")
    nspawn.unmount_all(spec)
    assert not os.path.ismount(target)
