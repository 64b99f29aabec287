"""`labctl up openstack --offline` in the HA topology on the emulated OpenStack, whose servers are real
local machines: up → the four proofs → apiserver-ha and worker-failure pass → down → nothing of the lab
in the cloud or on the host. Full suite only (six machines).
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudharness import EmulatedCloud, cloud_env, emulated_cloud
from e2ehelpers import REPO, lab_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.full]

LAB = "e2eos"


@pytest.fixture(scope="module")
def openstack() -> Iterator[EmulatedCloud]:
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    with emulated_cloud("openstack") as cloud:
        yield cloud


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("labctl-home-openstack")


def labctl(cloud: EmulatedCloud, home: Path, *args: str, timeout: float = 2400) -> subprocess.CompletedProcess[str]:
    argv = [args[0], "--lab", LAB, *args[1:]]
    return subprocess.run([sys.executable, "-m", "labctl", *argv], env=cloud_env(cloud, str(home)), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL)


def test_ha_lab_installs_on_cloud_machines(openstack: EmulatedCloud, home: Path) -> None:
    done = labctl(openstack, home, "up", "openstack", "--offline", "--yes", "--controllers", "3", "--allow-from",
                  openstack.operator_cidr, "--fast-failover", "--output", "json")
    if done.returncode != 0:
        labctl(openstack, home, "down", "--yes", timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["phase"] == "ready" and summary["provider"] == "openstack"
    status = json.loads(labctl(openstack, home, "status", "--output", "json").stdout)
    assert [n["role"] for n in status["nodes"]].count("controller") == 3 and all(n["ready"] for n in status["nodes"])


@pytest.mark.parametrize("drill_id", ["apiserver-ha", "worker-failure"])
def test_drill_passes_on_the_cloud(openstack: EmulatedCloud, home: Path, drill_id: str) -> None:
    result = json.loads(labctl(openstack, home, "drill", drill_id, "--output", "json").stdout)
    assert result["verdict"] == "pass", [e for e in result.get("expectations", []) if not e.get("met")]


def test_down_leaves_nothing(openstack: EmulatedCloud, home: Path) -> None:
    done = labctl(openstack, home, "down", "--yes", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "nothing of lab" in labctl(openstack, home, "down", "--yes").stderr or not (home / "labs" / LAB).exists()
    assert not (home / "labs" / LAB).exists()
