"""`labctl up openstack --offline` (1 controller, 2 workers) on the emulated OpenStack, whose servers are real
local machines: what a cloud user does after up. The four proofs, host keys from the console, a second up
changes nothing, status/kubectl/ssh/env, node-partition, etcd-backup-restore and scale-up (one more server
through the cloud, given back by its restore), labctl killed mid-drill then recover, down leaves nothing.
Full suite only; the HA topology on OpenStack is test_cloud_openstack_ha.py.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cloudharness import CloudLab, check_host_keys_pinned, cloud_lab, kill_drill_mid_fault, openstack_lab_resources

pytestmark = [pytest.mark.e2e, pytest.mark.full]

LAB = "e2eos"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudLab]:
    with cloud_lab("openstack", LAB, tmp_path_factory.mktemp("labctl-home-openstack")) as the_lab:
        yield the_lab


def up(lab: CloudLab) -> dict[str, Any]:
    done = lab.run("up", "openstack", "--offline", "--yes", "--allow-from", lab.cloud.operator_cidr, "--fast-failover",
                  "--output", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def servers(lab: CloudLab) -> list[str]:
    return [r for r in openstack_lab_resources(lab.cloud, LAB) if r.startswith("server ")]


def test_up_installs_a_cluster_on_cloud_machines(lab: CloudLab) -> None:
    try:
        summary = up(lab)
    except AssertionError:
        lab.run("down", "--yes", timeout=900)
        raise
    assert summary["phase"] == "ready" and summary["provider"] == "openstack"
    assert set(summary["checks"]) == {"apps_available", "nginx_nodeport", "guestbook_roundtrip", "cluster_dns"}
    nodes = json.loads(lab.run("status", "--output", "json").stdout)["nodes"]
    assert len(nodes) == 3 and all(n["ready"] for n in nodes), nodes
    assert len(servers(lab)) == 3


def test_host_keys_come_from_the_console_and_are_checked(lab: CloudLab) -> None:
    check_host_keys_pinned(lab)


def test_second_up_changes_nothing(lab: CloudLab) -> None:
    assert up(lab)["changed"] == {"cluster": 0, "apps": 0}
    assert len(servers(lab)) == 3


def test_kubectl_ssh_and_env_reach_the_cloud_lab(lab: CloudLab) -> None:
    nodes = lab.run("kubectl", "--", "get", "nodes", "-o", "name")
    assert nodes.returncode == 0 and len(nodes.stdout.split()) == 3, nodes.stderr
    # The server's cloud-config names it after its node.
    ssh = lab.run("ssh", "worker-1", "--", "hostname")
    assert ssh.returncode == 0 and ssh.stdout.strip() == "worker-1", (ssh.stdout, ssh.stderr)
    env = lab.run("env")
    assert env.returncode == 0 and "KUBECONFIG=" in env.stdout


@pytest.mark.parametrize("drill_id", ["node-partition", "etcd-backup-restore", "scale-up"])
def test_drill_passes_on_the_cloud(lab: CloudLab, drill_id: str) -> None:
    result = json.loads(lab.run("drill", drill_id, "--output", "json").stdout)
    assert result["verdict"] == "pass", [e for e in result.get("expectations", []) if not e.get("met")]
    if drill_id == "scale-up":
        # The added worker was one more server, and its restore deleted it through the cloud API.
        actions = [e["message"] for e in result.get("events", []) if e.get("kind") == "action"]
        assert any(m.startswith("the provider added worker-") for m in actions), actions
        assert any(m.startswith("drained and removed worker-") and m.endswith("through the provider") for m in actions), actions
        assert len(json.loads(lab.run("status", "--output", "json").stdout)["nodes"]) == 3
        assert len(servers(lab)) == 3


def test_recover_after_labctl_is_killed_mid_drill(lab: CloudLab) -> None:
    target = kill_drill_mid_fault(lab)
    summary = json.loads(lab.run("recover", "--output", "json", timeout=900).stdout)
    assert summary["healthy"] is True, summary
    assert lab.run("ssh", target, "--", "systemctl", "is-active", "kubelet").stdout.strip() == "active"


def test_down_leaves_nothing(lab: CloudLab) -> None:
    assert openstack_lab_resources(lab.cloud, LAB), "the lab's resources should be listed before down"
    done = lab.run("down", "--yes", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (lab.home / "labs" / LAB).exists()
    assert openstack_lab_resources(lab.cloud, LAB) == []
