"""`labctl up aws --offline` on the emulated AWS, whose instances are real local machines:
up → the four proofs → worker-failure passes → down → nothing of the lab in the cloud or on the host.
The full suite adds: a second up changes nothing, status/kubectl/ssh/env, the Python push --offline Flatcar
nodes get, node-partition,
etcd-backup-restore and scale-up (through the Auto Scaling group), labctl killed mid-drill then recover.
"""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudharness import REPO, CloudLab, aws_lab_resources, check_host_keys_pinned, cloud_lab, kill_drill_mid_fault

from labctl.bundle.versions import KUBERNETES_VERSION
from labctl.providers.aws.offline import node_python_installer
from labctl.providers.aws.userdata import FLATCAR_PYTHON
from labctl.runner import ansible_bin_dir, ansible_env

pytestmark = pytest.mark.e2e

LAB = "e2eaws"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudLab]:
    with cloud_lab("aws", LAB, tmp_path_factory.mktemp("labctl-home-aws")) as the_lab:
        yield the_lab


def test_up_installs_a_cluster_on_cloud_machines(lab: CloudLab) -> None:
    done = lab.run("up", "aws", "--offline", "--yes", "--allow-from", lab.cloud.operator_cidr, "--fast-failover",
                  "--output", "json")
    if done.returncode != 0:
        lab.run("down", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["phase"] == "ready" and summary["provider"] == "aws"
    assert set(summary["checks"]) == {"apps_available", "nginx_nodeport", "guestbook_roundtrip", "cluster_dns"}
    # The guestbook answered through the cloud's load balancer, at its "public" address.
    assert "redis-master.default.svc.cluster.local -> 10.96." in summary["checks"]["cluster_dns"]
    status = json.loads(lab.run("status", "--output", "json").stdout)
    nodes = status["nodes"]
    assert len(nodes) == 3 and all(n["ready"] for n in nodes), nodes


def test_host_keys_come_from_the_console_and_are_checked(lab: CloudLab) -> None:
    """Every instance's keys were read from its console before the first SSH, and are the ones it serves."""
    inventory = check_host_keys_pinned(lab)
    assert "StrictHostKeyChecking=yes" in inventory["all"]["vars"]["ansible_ssh_common_args"]


def test_worker_failure_passes(lab: CloudLab) -> None:
    done = lab.run("drill", "worker-failure", "--output", "json")
    result = json.loads(done.stdout)
    assert result["verdict"] == "pass", [e for e in result.get("expectations", []) if not e.get("met")]


@pytest.mark.full
def test_second_up_changes_nothing(lab: CloudLab) -> None:
    done = lab.run("up", "aws", "--offline", "--yes", "--allow-from", lab.cloud.operator_cidr, "--fast-failover",
                  "--output", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["changed"] == {"cluster": 0, "apps": 0}


@pytest.mark.full
def test_kubectl_ssh_and_env_reach_the_cloud_lab(lab: CloudLab) -> None:
    nodes = lab.run("kubectl", "--", "get", "nodes", "-o", "name")
    assert nodes.returncode == 0 and len(nodes.stdout.split()) == 3, nodes.stderr
    ssh = lab.run("ssh", "worker-1", "--", "cat", "/etc/labctl/node.env")
    assert ssh.returncode == 0 and f"LABCTL_LAB={LAB}" in ssh.stdout, ssh.stderr
    env = lab.run("env")
    assert env.returncode == 0 and "KUBECONFIG=" in env.stdout


@pytest.mark.full
def test_the_bundled_python_is_pushed_to_nodes_and_runs_ansible(lab: CloudLab, tmp_path: Path) -> None:
    """What `up aws --os flatcar --offline` does once its nodes answer SSH (Flatcar cannot boot here, these run Debian):
    ready-aws.yml pushes the bundle's Python with no Python needed on the node, then Ansible runs its modules with it."""
    inventory = yaml.safe_load((lab.home / "labs" / LAB / "inventory.yml").read_text())
    for group in inventory["all"]["children"].values():
        for host in (group.get("hosts") or {}).values():
            host["ansible_python_interpreter"] = FLATCAR_PYTHON
    flatcar_like = tmp_path / "inventory.yml"
    flatcar_like.write_text(yaml.safe_dump(inventory))

    def ready() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ansible_bin_dir() / "ansible-playbook"), "-i", str(flatcar_like), str(REPO / "playbooks" / "ready-aws.yml"),
             "-e", "node_os=flatcar",
             "-e", f"node_python_installer={node_python_installer(KUBERNETES_VERSION)}", "-e", "aws_ready_timeout=120"],
            capture_output=True, text=True, timeout=600, cwd=REPO, env={**os.environ, **ansible_env()})

    first = ready()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    hosts = [line for line in first.stdout[first.stdout.index("PLAY RECAP"):].splitlines() if " ok=" in line]
    assert len(hosts) == 3 and all("changed=1 " in line for line in hosts), hosts
    where = lab.run("ssh", "worker-1", "--", FLATCAR_PYTHON, "-c", "'import sys, ssl; print(sys.prefix)'")
    assert where.returncode == 0 and where.stdout.strip() == "/opt/python", where.stdout + where.stderr
    again = ready()
    hosts = [line for line in again.stdout[again.stdout.index("PLAY RECAP"):].splitlines() if " ok=" in line]
    assert again.returncode == 0 and len(hosts) == 3 and all("changed=0 " in line for line in hosts), again.stdout[-2000:]


@pytest.mark.full
@pytest.mark.parametrize("drill_id", ["node-partition", "etcd-backup-restore", "scale-up"])
def test_drill_passes_on_the_cloud(lab: CloudLab, drill_id: str) -> None:
    result = json.loads(lab.run("drill", drill_id, "--output", "json").stdout)
    assert result["verdict"] == "pass", [e for e in result.get("expectations", []) if not e.get("met")]
    if drill_id == "scale-up":
        # The added worker went through the cloud and its restore gave it back.
        assert len(json.loads(lab.run("status", "--output", "json").stdout)["nodes"]) == 3
        assert sum(r.startswith("instance ") for r in aws_lab_resources(lab.cloud, LAB)) == 3


@pytest.mark.full
def test_recover_after_labctl_is_killed_mid_drill(lab: CloudLab) -> None:
    target = kill_drill_mid_fault(lab)
    summary = json.loads(lab.run("recover", "--output", "json", timeout=900).stdout)
    assert summary["healthy"] is True, summary
    assert lab.run("ssh", target, "--", "systemctl", "is-active", "kubelet").stdout.strip() == "active"


def test_down_leaves_nothing(lab: CloudLab) -> None:
    done = lab.run("down", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert aws_lab_resources(lab.cloud, LAB) == []
    assert not (lab.home / "labs" / LAB).exists()
