"""`labctl up openstack --offline` in the HA topology on the emulated OpenStack, whose servers are real
local machines: up → the four proofs → apiserver-ha and worker-failure pass → down → nothing of the lab
in the cloud or on the host. Full suite only (six machines). The default topology on OpenStack, with the
drills an HA lab cannot run (etcd-backup-restore restores a single member), is test_cloud_openstack.py.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cloudharness import CloudLab, cloud_lab, openstack_lab_resources

pytestmark = [pytest.mark.e2e, pytest.mark.full]

LAB = "e2eosha"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudLab]:
    with cloud_lab("openstack", LAB, tmp_path_factory.mktemp("labctl-home-openstack")) as the_lab:
        yield the_lab


def test_ha_lab_installs_on_cloud_machines(lab: CloudLab) -> None:
    done = lab.run("up", "openstack", "--offline", "--yes", "--controllers", "3", "--allow-from",
                  lab.cloud.operator_cidr, "--fast-failover", "--output", "json")
    if done.returncode != 0:
        lab.run("down", "--yes", timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["phase"] == "ready" and summary["provider"] == "openstack"
    status = json.loads(lab.run("status", "--output", "json").stdout)
    assert [n["role"] for n in status["nodes"]].count("controller") == 3 and all(n["ready"] for n in status["nodes"])


@pytest.mark.parametrize("drill_id", ["apiserver-ha", "worker-failure"])
def test_drill_passes_on_the_cloud(lab: CloudLab, drill_id: str) -> None:
    result = json.loads(lab.run("drill", drill_id, "--output", "json").stdout)
    assert result["verdict"] == "pass", [e for e in result.get("expectations", []) if not e.get("met")]


def test_down_leaves_nothing(lab: CloudLab) -> None:
    assert openstack_lab_resources(lab.cloud, LAB), "the lab's resources should be listed before down"
    done = lab.run("down", "--yes", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (lab.home / "labs" / LAB).exists()
    assert openstack_lab_resources(lab.cloud, LAB) == []
