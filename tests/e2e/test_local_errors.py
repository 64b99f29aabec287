"""Bad conditions for the local provider: one clear line, non-zero exit, and `down` still cleans up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2ehelpers import REPO

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create host interfaces")


def labctl(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    env = {**os.environ, "LABCTL_HOME": str(home)}
    return subprocess.run([*prefix, sys.executable, "-m", "labctl", *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=300)


def test_address_range_in_use(tmp_path: Path) -> None:
    dev = "lctest0"
    # A bridge, not a dummy link: some kernels here lack the dummy driver.
    subprocess.run(["ip", "link", "add", dev, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "10.213.98.1/24", "dev", dev], check=True)
        config = tmp_path / "labctl.yaml"
        config.write_text("local:\n  subnet: 10.213.98.0/24\n")
        done = labctl(tmp_path, "up", "--lab", "clash", "--config", str(config))
        assert done.returncode == 2, done.stderr
        assert "address range 10.213.98.0/24 is already in use on this host (lctest0" in done.stderr
        assert "set local.subnet" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert subprocess.run(["ip", "link", "show", "lc-clash"], capture_output=True).returncode != 0
        down = labctl(tmp_path, "down", "--lab", "clash")
        assert down.returncode == 0, down.stderr
    finally:
        subprocess.run(["ip", "link", "del", dev], check=False)
