"""`labctl up openstack --offline` in the HA topology on the emulated OpenStack, whose servers are real
local machines: up → the four proofs → apiserver-ha and worker-failure pass → down → nothing of the lab
in the cloud or on the host. Full suite only (six machines).
"""

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cloudharness import CloudLab, cloud_lab

pytestmark = [pytest.mark.e2e, pytest.mark.full]

LAB = "e2eos"


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


def cloud_leftovers(lab: CloudLab) -> list[str]:
    """Everything named for the lab that the cloud still holds, asked with openstacksdk."""
    import openstack

    os.environ["OS_CLIENT_CONFIG_FILE"] = lab.cloud.env["OS_CLIENT_CONFIG_FILE"]
    conn = openstack.connect(cloud=lab.cloud.env["OS_CLOUD"])
    prefix = f"labctl-{LAB}-"
    found = [f"server {s.name}" for s in conn.compute.servers() if s.name.startswith(prefix)]
    found += [f"port {p.name}" for p in conn.network.ports() if (p.name or "").startswith(prefix)]
    found += [f"network {n.name}" for n in conn.network.networks() if n.name.startswith(prefix)]
    found += [f"router {r.name}" for r in conn.network.routers() if r.name.startswith(prefix)]
    found += [f"floating ip {f.floating_ip_address}" for f in conn.network.ips() if f.port_id]
    found += [f"key pair {k.name}" for k in conn.compute.keypairs() if k.name.startswith(prefix)]
    return found


def test_down_leaves_nothing(lab: CloudLab) -> None:
    assert cloud_leftovers(lab), "the lab's resources should be listed before down"
    done = lab.run("down", "--yes", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (lab.home / "labs" / LAB).exists()
    assert cloud_leftovers(lab) == []
